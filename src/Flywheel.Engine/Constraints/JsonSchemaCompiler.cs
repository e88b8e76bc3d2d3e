using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flywheel.Engine.Constraints;

/// <summary>
/// Compiles a JSON schema into <see cref="SchemaNode"/>s, refusing every keyword outside the subset (see
/// <see cref="JsonSchema"/>) and schemas that no value can satisfy.
/// </summary>
internal sealed class JsonSchemaCompiler
{
    /// <summary>Keywords that describe and never constrain; ignored.</summary>
    private static readonly HashSet<string> Annotations =
        ["title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "strict"];

    /// <summary>How literals and names are spelled in the output: compact, with only the escapes JSON requires.</summary>
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private const int MaxProperties = 64; // the seen/required sets are one ulong

    private readonly JsonObject? _root;
    private readonly Dictionary<string, SchemaNode> _refs = new(StringComparer.Ordinal);

    private JsonSchemaCompiler(JsonObject? root) => _root = root;

    public static SchemaNode Compile(JsonNode? schema) => new JsonSchemaCompiler(schema as JsonObject).Node(schema, "");

    private SchemaNode Node(JsonNode? schema, string path)
    {
        switch (schema)
        {
            case JsonValue v when v.GetValueKind() == JsonValueKind.True:
                return SchemaNode.Any;
            case JsonValue v when v.GetValueKind() == JsonValueKind.False:
                throw new UnsupportedSchemaException("false", path, "allows no value");
            case JsonObject o:
                return Object(o, path);
            default:
                throw new UnsupportedSchemaException("(schema)", path, "must be an object or a boolean");
        }
    }

    private SchemaNode Object(JsonObject o, string path)
    {
        if (o["$ref"] is { } reference) return Ref(reference, o, path);
        foreach (var (key, _) in o)
        {
            if (Annotations.Contains(key)) continue;
            if (key is not ("type" or "properties" or "required" or "additionalProperties" or "enum" or "const" or "items"
                or "minItems" or "maxItems" or "anyOf" or "nullable" or "minLength" or "maxLength"))
            {
                throw new UnsupportedSchemaException(key, path, "is not supported; Flywheel enforces type, properties, required, " +
                    "additionalProperties, enum, const, items, minItems, maxItems, anyOf, nullable, minLength, maxLength and $ref to $defs");
            }
        }
        var node = new SchemaNode();
        if (o["anyOf"] is { } anyOf)
        {
            if (o.Any(kv => !Annotations.Contains(kv.Key) && kv.Key != "anyOf"))
            {
                throw new UnsupportedSchemaException("anyOf", path, "is supported only on its own (with annotations), not beside other keywords");
            }
            if (anyOf is not JsonArray { Count: > 0 } alternatives) throw new UnsupportedSchemaException("anyOf", path, "must be a non-empty array");
            node.AnyOf = alternatives.Select((a, i) => Node(a, $"{path}/anyOf/{i}")).ToList();
            return node;
        }

        node.Types = Types(o["type"], path);
        if (o["nullable"] is { } nullable)
        {
            if (nullable.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) throw new UnsupportedSchemaException("nullable", path, "must be true or false");
            if (nullable.GetValue<bool>()) node.Types |= JsonTypes.Null;
        }
        if ((node.Types & JsonTypes.Integer) != 0 && (node.Types & JsonTypes.Number) != 0) node.Types &= ~JsonTypes.Integer;

        // Object keywords.
        var properties = o["properties"];
        if (properties is not null and not JsonObject) throw new UnsupportedSchemaException("properties", path, "must be an object");
        if (properties is JsonObject props)
        {
            foreach (var (name, sub) in props)
            {
                node.Properties.Add(new SchemaNode.Property(name, KeyBytes(name), Node(sub, $"{path}/properties/{Escape(name)}")));
            }
        }
        node.Additional = o["additionalProperties"] switch
        {
            null => SchemaNode.Any,
            JsonValue v when v.GetValueKind() == JsonValueKind.False => null,
            var sub => Node(sub, $"{path}/additionalProperties"),
        };
        if (o["required"] is { } required)
        {
            if (required is not JsonArray names) throw new UnsupportedSchemaException("required", path, "must be an array of names");
            foreach (var n in names)
            {
                if (n is not JsonValue nv || !nv.TryGetValue<string>(out var name)) throw new UnsupportedSchemaException("required", path, "must be an array of names");
                var index = node.Properties.FindIndex(p => p.Name == name);
                if (index < 0)
                {
                    // A required name not declared must still appear: declare it with the additional properties' schema.
                    if (node.Additional is null) throw new UnsupportedSchemaException("required", path, $"names '{name}', which additionalProperties: false forbids");
                    node.Properties.Add(new SchemaNode.Property(name, KeyBytes(name), node.Additional));
                    index = node.Properties.Count - 1;
                }
                if (index < MaxProperties) node.Required |= 1UL << index;
            }
        }
        if (node.Properties.Count > MaxProperties) throw new UnsupportedSchemaException("properties", path, $"declares more than {MaxProperties} properties");

        // Array keywords.
        node.Items = o["items"] is { } items ? Node(items, $"{path}/items") : SchemaNode.Any;
        node.MinItems = Count(o, "minItems", path) ?? 0;
        node.MaxItems = Count(o, "maxItems", path) ?? int.MaxValue;
        if (node.MinItems > node.MaxItems) throw new UnsupportedSchemaException("minItems", path, "is greater than maxItems");

        // String keywords.
        node.MinLength = Count(o, "minLength", path) ?? 0;
        node.MaxLength = Count(o, "maxLength", path) ?? int.MaxValue;
        if (node.MinLength > node.MaxLength) throw new UnsupportedSchemaException("minLength", path, "is greater than maxLength");

        // enum and const: the allowed values themselves, kept when they fit the other keywords.
        List<JsonNode?>? values = null;
        if (o.TryGetPropertyValue("const", out var constant)) values = [constant];
        if (o["enum"] is { } e)
        {
            if (e is not JsonArray { Count: > 0 } options) throw new UnsupportedSchemaException("enum", path, "must be a non-empty array");
            var list = options.ToList();
            values = values is null ? list : values.Where(v => list.Any(x => JsonNode.DeepEquals(x, v))).ToList();
        }
        if (values is not null)
        {
            node.Literals = values.Where(v => Fits(node, v)).Select(v => Encoding.UTF8.GetBytes(v?.ToJsonString(Compact) ?? "null")).Distinct(ByteArrayComparer.Instance).ToList();
            if (node.Literals.Count == 0) throw new UnsupportedSchemaException(o.ContainsKey("enum") ? "enum" : "const", path, "allows no value that the schema's other keywords accept");
        }
        return node;
    }

    private SchemaNode Ref(JsonNode reference, JsonObject o, string path)
    {
        if (o.Any(kv => !Annotations.Contains(kv.Key) && kv.Key != "$ref"))
        {
            throw new UnsupportedSchemaException("$ref", path, "is supported only on its own (with annotations), not beside other keywords");
        }
        if (reference is not JsonValue rv || !rv.TryGetValue<string>(out var target)) throw new UnsupportedSchemaException("$ref", path, "must be a string");
        if (_refs.TryGetValue(target, out var known)) return known;
        if (target == "#") return Remember(target, _root, "");
        foreach (var prefix in new[] { "#/$defs/", "#/definitions/" })
        {
            if (target.StartsWith(prefix, StringComparison.Ordinal))
            {
                var name = target[prefix.Length..].Replace("~1", "/").Replace("~0", "~");
                var defs = _root?[prefix[2..^1]] as JsonObject;
                if (defs?[name] is { } def) return Remember(target, def, target[1..]);
                throw new UnsupportedSchemaException("$ref", path, $"points to '{target}', which is not defined");
            }
        }
        throw new UnsupportedSchemaException("$ref", path, $"'{target}' is not supported; only local references to #/$defs/NAME or #/definitions/NAME are");
    }

    /// <summary>Compiles a referenced schema once; a reference met again while compiling it gets the same node (recursion).</summary>
    private SchemaNode Remember(string target, JsonNode? schema, string path)
    {
        var placeholder = new SchemaNode();
        _refs[target] = placeholder;
        var compiled = Node(schema, path);
        // Copy into the placeholder that recursive references already hold.
        placeholder.Types = compiled.Types;
        placeholder.Properties = compiled.Properties;
        placeholder.Required = compiled.Required;
        placeholder.Additional = ReferenceEquals(compiled, SchemaNode.Any) ? placeholder : compiled.Additional;
        placeholder.Items = ReferenceEquals(compiled, SchemaNode.Any) ? placeholder : compiled.Items;
        placeholder.MinItems = compiled.MinItems;
        placeholder.MaxItems = compiled.MaxItems;
        placeholder.MinLength = compiled.MinLength;
        placeholder.MaxLength = compiled.MaxLength;
        placeholder.Literals = compiled.Literals;
        placeholder.AnyOf = compiled.AnyOf;
        return placeholder;
    }

    private static JsonTypes Types(JsonNode? type, string path)
    {
        switch (type)
        {
            case null:
                return JsonTypes.All;
            case JsonValue v when v.TryGetValue<string>(out var name):
                return Type(name, path);
            case JsonArray { Count: > 0 } names:
                var types = JsonTypes.None;
                foreach (var n in names)
                {
                    if (n is not JsonValue nv || !nv.TryGetValue<string>(out var s)) throw new UnsupportedSchemaException("type", path, "must be a type name or an array of them");
                    types |= Type(s, path);
                }
                return types;
            default:
                throw new UnsupportedSchemaException("type", path, "must be a type name or an array of them");
        }
    }

    private static JsonTypes Type(string name, string path) => name switch
    {
        "object" => JsonTypes.Object,
        "array" => JsonTypes.Array,
        "string" => JsonTypes.String,
        "number" => JsonTypes.Number,
        "integer" => JsonTypes.Integer,
        "boolean" => JsonTypes.Boolean,
        "null" => JsonTypes.Null,
        _ => throw new UnsupportedSchemaException("type", path, $"names '{name}', which is not a JSON type"),
    };

    private static int? Count(JsonObject o, string keyword, string path)
    {
        if (o[keyword] is not { } n) return null;
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<double>(out var x) || x < 0 || x != Math.Floor(x))
        {
            throw new UnsupportedSchemaException(keyword, path, "must be a non-negative integer");
        }
        return (int)Math.Min(x, int.MaxValue);
    }

    /// <summary>Whether a const/enum value has a type the schema allows (deeper keywords are the schema author's promise).</summary>
    private static bool Fits(SchemaNode node, JsonNode? value)
    {
        var kind = value?.GetValueKind() ?? JsonValueKind.Null;
        var type = kind switch
        {
            JsonValueKind.Object => JsonTypes.Object,
            JsonValueKind.Array => JsonTypes.Array,
            JsonValueKind.String => JsonTypes.String,
            JsonValueKind.Number => value!.GetValue<double>() is var d && d == Math.Floor(d) ? JsonTypes.Integer | JsonTypes.Number : JsonTypes.Number,
            JsonValueKind.True or JsonValueKind.False => JsonTypes.Boolean,
            _ => JsonTypes.Null,
        };
        return (node.Types & type) != 0;
    }

    /// <summary>A property name as the bytes between the quotes of its compact JSON string.</summary>
    private static byte[] KeyBytes(string name)
    {
        var json = JsonValue.Create(name).ToJsonString(Compact);
        return Encoding.UTF8.GetBytes(json[1..^1]);
    }

    private static string Escape(string name) => name.Replace("~", "~0").Replace("/", "~1");

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] obj)
        {
            var h = new HashCode();
            h.AddBytes(obj);
            return h.ToHashCode();
        }
    }
}
