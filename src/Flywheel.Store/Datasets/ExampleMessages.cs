using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flywheel.Store.Traffic;

namespace Flywheel.Store.Datasets;

/// <summary>
/// Turns a captured exchange into a training conversation in the OpenAI messages shape. A correction replaces the
/// original answer: text becomes the assistant's content; a messages array of only assistant/tool messages replaces
/// the assistant turn; one that has system or user messages replaces the whole conversation.
/// </summary>
public static class ExampleMessages
{
    /// <summary>Compact, with non-ASCII text kept readable (no \uXXXX), one line per example in JSONL.</summary>
    internal static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = false };

    /// <summary>
    /// The conversation as compact JSON, or null when the exchange cannot make one (no answer, an abandoned or failed
    /// request without a correction, a malformed request).
    /// </summary>
    public static string? From(CapturedExchange exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        var record = exchange.Record;
        JsonArray conversation;
        try
        {
            if (exchange.Correction?.MessagesJson is { } correctionJson && JsonNode.Parse(correctionJson) is JsonArray correction
                && correction.Any(m => m?["role"]?.GetValue<string>() is "system" or "user" or "developer"))
            {
                return Finish(correction);
            }
            conversation = Request(record);
            if (conversation.Count == 0) return null;
            switch (exchange.Correction)
            {
                case { Text: { } text }:
                    conversation.Add(new JsonObject { ["role"] = "assistant", ["content"] = text });
                    break;
                case { MessagesJson: { } json }:
                    foreach (var m in JsonNode.Parse(json)!.AsArray()) conversation.Add(m?.DeepClone());
                    break;
                default:
                    // An abandoned or failed request's output is a fragment, not an answer to learn from.
                    if (!record.Answered) return null;
                    var answer = new JsonObject { ["role"] = "assistant" };
                    var calls = record.ToolCallsJson is { } t ? JsonNode.Parse(t) as JsonArray : null;
                    if (record.OutputText is null && (calls is null || calls.Count == 0)) return null;
                    answer["content"] = record.OutputText;
                    if (calls is { Count: > 0 }) answer["tool_calls"] = calls;
                    conversation.Add(answer);
                    break;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
        return Finish(conversation);
    }

    private static JsonArray Request(TrafficRecord record)
    {
        var request = JsonNode.Parse(record.RequestJson);
        if (record.Kind == TrafficKind.Chat)
        {
            return request as JsonArray ?? [];
        }
        // A completion prompt: a string, or an array holding exactly one string.
        string? prompt = request switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray { Count: 1 } a when a[0] is JsonValue v && v.TryGetValue<string>(out var s) => s,
            _ => null,
        };
        return prompt is null ? [] : [new JsonObject { ["role"] = "user", ["content"] = prompt }];
    }

    private static string? Finish(JsonArray conversation)
    {
        string json = conversation.ToJsonString(Json);
        try
        {
            ChatMessagesJson.Validate(json, requireAssistant: true);
        }
        catch (ArgumentException)
        {
            return null;
        }
        return json;
    }
}
