using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flywheel.Server.Endpoints.OpenAi;

/// <summary>
/// Typed, validated reads of an OpenAI request body. Every wrong type or out-of-range value throws
/// <see cref="BadRequestException"/> naming the field, so clients get a 400 that says what to fix.
/// </summary>
public sealed class RequestFields(JsonObject body)
{
    public JsonObject Body { get; } = body;

    /// <summary>Reads the body; malformed JSON or invalid UTF-8 (System.Text.Json rejects both) is a 400.</summary>
    public static async Task<RequestFields> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        // Check the encoding up front: the JSON reader defers decoding string contents, so bad bytes inside a
        // string would otherwise surface later, far from the request, as an unexpected exception.
        if (!System.Text.Unicode.Utf8.IsValid(bytes.Span))
        {
            throw new BadRequestException("the request body is not valid UTF-8");
        }
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(bytes.Span);
        }
        catch (JsonException e)
        {
            throw new BadRequestException($"the request body is not valid JSON: {e.Message}");
        }
        return node is JsonObject o ? new RequestFields(o) : throw new BadRequestException("the request body must be a JSON object");
    }

    public string? String(string name)
    {
        var node = Body[name];
        if (node is null) return null;
        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Invalid(name, "a string");
    }

    public bool Bool(string name, bool fallback)
    {
        var node = Body[name];
        if (node is null) return fallback;
        return node is JsonValue v && v.TryGetValue<bool>(out var b) ? b : throw Invalid(name, "true or false");
    }

    public double? Number(string name, double min, double max)
    {
        var node = Body[name];
        if (node is null) return null;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) throw Invalid(name, "a number");
        var x = v.GetValue<double>();
        if (double.IsNaN(x) || x < min || x > max) throw new BadRequestException($"'{name}' must be between {min} and {max}, got {x}", name);
        return x;
    }

    public long? Integer(string name, long min, long max)
    {
        var x = Number(name, min, max);
        if (x is null) return null;
        if (x != Math.Floor(x.Value)) throw Invalid(name, "an integer");
        return (long)x.Value;
    }

    /// <summary>OpenAI's <c>stop</c>: a string or an array of up to 4 strings.</summary>
    public IReadOnlyList<string> StopStrings()
    {
        switch (Body["stop"])
        {
            case null:
                return [];
            case JsonValue v when v.TryGetValue<string>(out var s):
                return s.Length == 0 ? [] : [s];
            case JsonArray a:
                if (a.Count > 4) throw new BadRequestException("'stop' takes at most 4 strings", "stop");
                return a.Select(x => x is JsonValue sv && sv.TryGetValue<string>(out var t) ? t : throw Invalid("stop", "a string or an array of strings"))
                    .Where(t => t.Length > 0).ToList();
            default:
                throw Invalid("stop", "a string or an array of strings");
        }
    }

    public static BadRequestException Invalid(string name, string expected) => new($"'{name}' must be {expected}", name);
}
