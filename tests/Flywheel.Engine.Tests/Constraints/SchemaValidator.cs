using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flywheel.Engine.Tests.Constraints;

/// <summary>
/// An independent check of parsed JSON against the schema subset, written over JsonNode trees (not bytes), so the
/// property tests do not trust the matcher to grade itself.
/// </summary>
internal static class SchemaValidator
{
    public static bool IsValid(JsonNode? value, JsonNode schema) => Check(value, schema, schema);

    private static bool Check(JsonNode? value, JsonNode? schema, JsonNode root)
    {
        if (schema is JsonValue b && b.GetValueKind() is JsonValueKind.True) return true;
        if (schema is not JsonObject s) return false;
        if (s["$ref"] is { } r)
        {
            var target = r.GetValue<string>();
            if (target == "#") return Check(value, root, root);
            var parts = target[2..].Split('/');
            return Check(value, root[parts[0]]![parts[1]], root);
        }
        if (s["anyOf"] is JsonArray any) return any.Any(a => Check(value, a, root));
        if (s.TryGetPropertyValue("const", out var c) && !JsonNode.DeepEquals(c, value)) return false;
        if (s["enum"] is JsonArray e && !e.Any(x => JsonNode.DeepEquals(x, value))) return false;
        var kind = value?.GetValueKind() ?? JsonValueKind.Null;
        if (s["type"] is { } t)
        {
            var types = t is JsonArray ta ? ta.Select(x => x!.GetValue<string>()).ToList() : [t.GetValue<string>()];
            if (s["nullable"]?.GetValue<bool>() == true) types.Add("null");
            if (!types.Any(name => HasType(value, kind, name))) return false;
        }
        switch (kind)
        {
            case JsonValueKind.Object:
                var o = value!.AsObject();
                var props = s["properties"] as JsonObject;
                foreach (var name in (s["required"] as JsonArray)?.Select(n => n!.GetValue<string>()) ?? [])
                {
                    if (!o.ContainsKey(name)) return false;
                }
                foreach (var (name, v) in o)
                {
                    if (props is not null && props.TryGetPropertyValue(name, out var ps))
                    {
                        if (!Check(v, ps, root)) return false;
                    }
                    else if (s["additionalProperties"] is { } ap)
                    {
                        if (ap.GetValueKind() == JsonValueKind.False) return false;
                        if (ap.GetValueKind() != JsonValueKind.True && !Check(v, ap, root)) return false;
                    }
                }
                return true;
            case JsonValueKind.Array:
                var a = value!.AsArray();
                if (s["minItems"] is { } min && a.Count < min.GetValue<int>()) return false;
                if (s["maxItems"] is { } max && a.Count > max.GetValue<int>()) return false;
                return s["items"] is not { } items || a.All(x => Check(x, items, root));
            case JsonValueKind.String:
                var text = value!.GetValue<string>();
                var length = new StringInfoLength(text).CodePoints;
                if (s["minLength"] is { } minL && length < minL.GetValue<int>()) return false;
                if (s["maxLength"] is { } maxL && length > maxL.GetValue<int>()) return false;
                return true;
            default:
                return true;
        }
    }

    private static bool HasType(JsonNode? value, JsonValueKind kind, string name) => name switch
    {
        "object" => kind == JsonValueKind.Object,
        "array" => kind == JsonValueKind.Array,
        "string" => kind == JsonValueKind.String,
        "number" => kind == JsonValueKind.Number,
        "integer" => kind == JsonValueKind.Number && decimal.TryParse(value!.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == decimal.Truncate(d),
        "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
        "null" => kind == JsonValueKind.Null,
        _ => false,
    };

    private readonly record struct StringInfoLength(string Text)
    {
        public int CodePoints => Text.EnumerateRunes().Count();
    }
}
