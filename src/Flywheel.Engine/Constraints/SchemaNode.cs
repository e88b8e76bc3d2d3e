namespace Flywheel.Engine.Constraints;

/// <summary>
/// One compiled schema of the supported subset. Keywords apply to values of their type only, as in JSON Schema.
/// Nodes may form cycles (recursive <c>$ref</c>); they are immutable once <see cref="JsonSchemaCompiler"/> is done.
/// </summary>
internal sealed class SchemaNode
{
    /// <summary>Accepts any JSON value.</summary>
    public static readonly SchemaNode Any = CreateAny();

    public JsonTypes Types = JsonTypes.All;

    /// <summary>Declared properties, in schema order; <see cref="Property.Key"/> is the name as JSON string bytes without quotes.</summary>
    public List<Property> Properties = [];

    /// <summary>Bit i set: property i is required.</summary>
    public ulong Required;

    /// <summary>Schema of undeclared properties, or null when they are not allowed (<c>additionalProperties: false</c>).</summary>
    public SchemaNode? Additional = null!;

    public SchemaNode? Items = null!;
    public int MinItems;
    public int MaxItems = int.MaxValue;
    public int MinLength;
    public int MaxLength = int.MaxValue;

    /// <summary><c>enum</c>/<c>const</c>: the allowed values as compact JSON bytes; null when any value of the types goes.</summary>
    public List<byte[]>? Literals;

    /// <summary><c>anyOf</c>: the value matches one of these (the other keywords of this node are folded into them).</summary>
    public List<SchemaNode>? AnyOf;

    /// <summary>Bytes of the shortest value this schema allows; set once by <see cref="MinimalOutput.Compute"/> (−1 before).</summary>
    public int MinBytes = -1;

    public sealed record Property(string Name, byte[] Key, SchemaNode Schema);

    private static SchemaNode CreateAny()
    {
        var any = new SchemaNode();
        any.Additional = any;
        any.Items = any;
        return any;
    }
}
