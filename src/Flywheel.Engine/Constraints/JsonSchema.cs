using System.Text.Json.Nodes;

namespace Flywheel.Engine.Constraints;

/// <summary>
/// A JSON schema compiled for constrained decoding. The enforced subset:
/// <list type="bullet">
/// <item><c>type</c> (object, array, string, number, integer, boolean, null, or an array of them) and OpenAPI's <c>nullable</c>;</item>
/// <item><c>properties</c>, <c>required</c>, <c>additionalProperties</c> (false, true or a schema; absent means any);</item>
/// <item><c>items</c>, <c>minItems</c>, <c>maxItems</c>; <c>minLength</c>, <c>maxLength</c> (code points);</item>
/// <item><c>enum</c>, <c>const</c> (generated in compact form); <c>anyOf</c> (on its own);</item>
/// <item><c>$ref</c> to <c>#</c>, <c>#/$defs/NAME</c> or <c>#/definitions/NAME</c>, recursion included.</item>
/// </list>
/// Annotations (title, description, default, examples, ...) are ignored; every other keyword (pattern, format,
/// minimum, oneOf, allOf, ...) is refused with <see cref="UnsupportedSchemaException"/> naming it, as are schemas no
/// value satisfies. Generated output is further bounded so that it always ends: at most
/// <see cref="MatchFrame.MaxWhitespace"/> whitespace bytes between tokens, numbers of at most 16 integer and 16
/// fraction digits and a 3-digit exponent, integers without fraction or exponent, object keys without backslash
/// escapes, and at most 64 declared properties per object. Immutable and thread-safe.
/// </summary>
public sealed class JsonSchema
{
    private JsonSchema(SchemaNode root)
    {
        MinimalOutput.Compute(root);
        Root = root;
    }

    /// <summary>Bytes of the shortest document this schema allows (an object's <c>{}</c> is 2).</summary>
    public int ShortestLength => MinimalOutput.Value(Root);

    internal SchemaNode Root { get; }

    /// <summary>Any JSON value.</summary>
    public static JsonSchema AnyValue { get; } = new(SchemaNode.Any);

    /// <summary>Any JSON object (OpenAI's <c>json_object</c> response format).</summary>
    public static JsonSchema AnyObject { get; } = new(new SchemaNode { Types = JsonTypes.Object, Additional = SchemaNode.Any, Items = SchemaNode.Any });

    /// <summary>Compiles <paramref name="schema"/>; throws <see cref="UnsupportedSchemaException"/> for what the subset does not cover.</summary>
    public static JsonSchema Compile(JsonNode? schema) => new(JsonSchemaCompiler.Compile(schema));
}
