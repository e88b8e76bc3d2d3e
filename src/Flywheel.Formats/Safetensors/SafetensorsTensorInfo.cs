namespace Flywheel.Formats.Safetensors;

/// <summary>
/// One tensor of a safetensors file. <see cref="Shape"/> is as the file stores it (row-major, outermost first,
/// the PyTorch order); <see cref="Begin"/> and <see cref="End"/> are relative to the start of the data section.
/// </summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);

    public long ByteLength => End - Begin;

    /// <summary>The shape in GGUF order (fastest-varying dimension first), as Flywheel reports shapes everywhere.</summary>
    public long[] GgufShape => Shape.Reverse().ToArray();

    public static int ElementSize(SafetensorsDType type) => type switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 or SafetensorsDType.U32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.I16 or SafetensorsDType.U16 => 2,
        _ => 1,
    };
}
