using Flywheel.Tensors;

namespace Flywheel.Formats.Gguf;

/// <summary>One entry of a GGUF tensor table. <see cref="Offset"/> is relative to the start of the data section.</summary>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Shape, long Offset)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Bytes the tensor takes: rows times the bytes of one row of <c>Shape[0]</c> elements.</summary>
    public long ByteSize
    {
        get
        {
            var rowLength = Shape.Length == 0 ? 1 : Shape[0];
            var rows = rowLength == 0 ? 0 : ElementCount / rowLength;
            return rows * GgmlTypeInfo.RowBytes(Type, rowLength);
        }
    }
}
