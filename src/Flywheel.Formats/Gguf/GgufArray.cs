namespace Flywheel.Formats.Gguf;

/// <summary>
/// A typed GGUF metadata array. <see cref="Items"/> is a CLR array of the element type
/// (<c>byte[]</c>, <c>int[]</c>, <c>string[]</c>, <c>float[]</c>, <c>GgufArray[]</c> for nested arrays, ...).
/// </summary>
public sealed record GgufArray(GgufValueType ElementType, Array Items)
{
    public int Length => Items.Length;
}
