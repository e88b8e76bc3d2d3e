namespace Flywheel.Tensors;

/// <summary>
/// A read-only, zero-copy view of one tensor's bytes, usually inside a memory-mapped model file.
/// The view does not own its memory: it is valid only while the file that produced it stays open.
/// Shape is in GGUF order: <c>Shape[0]</c> is the fastest-varying dimension (the row length).
/// </summary>
public sealed unsafe class TensorView
{
    public TensorView(string name, GgmlType type, long[] shape, byte* data, long byteLength)
    {
        Name = name;
        Type = type;
        _shape = shape;
        Data = data;
        ByteLength = byteLength;
    }

    public string Name { get; }
    public GgmlType Type { get; }
    // Kept as an array so the per-call properties below loop without an enumerator allocation (decode hot path).
    private readonly long[] _shape;

    public IReadOnlyList<long> Shape => _shape;

    /// <summary>Start of the tensor's bytes; stays valid while the owning file is open.</summary>
    public byte* Data { get; }
    public long ByteLength { get; }

    /// <summary>
    /// A copy of the bytes a kernel set rearranged for its matmul (<c>IKernelSet.PrepareWeight</c>), or null.
    /// <see cref="Data"/> still points at the original bytes, so row lookups and other kernel sets work unchanged.
    /// </summary>
    public PackedTensor? Packed { get; private init; }

    /// <summary>This view with <paramref name="packed"/> attached; the caller keeps owning <paramref name="packed"/>.</summary>
    public TensorView WithPacked(PackedTensor packed) => new(Name, Type, _shape, Data, ByteLength) { Packed = packed };

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in _shape) n *= d;
            return n;
        }
    }

    /// <summary>Elements per row (<c>ne[0]</c>).</summary>
    public long RowLength => _shape.Length == 0 ? 1 : _shape[0];

    public long RowCount => RowLength == 0 ? 0 : ElementCount / RowLength;

    public long RowBytes => GgmlTypeInfo.RowBytes(Type, RowLength);

    /// <summary>All bytes as a span. Tensors over 2 GiB must be read row by row with <see cref="Row"/>.</summary>
    public ReadOnlySpan<byte> Bytes => ByteLength <= int.MaxValue
        ? new ReadOnlySpan<byte>(Data, (int)ByteLength)
        : throw new InvalidOperationException($"tensor {Name} is {ByteLength} bytes; read it by rows");

    public ReadOnlySpan<byte> Row(long index)
    {
        if ((ulong)index >= (ulong)RowCount) throw new ArgumentOutOfRangeException(nameof(index));
        var rowBytes = RowBytes;
        return new ReadOnlySpan<byte>(Data + index * rowBytes, checked((int)rowBytes));
    }
}
