using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// A weight's bytes rearranged once, at load, for one kernel set's matmul (see <see cref="TensorView.Packed"/>).
/// The memory is native, 64-byte aligned, and owned by this object: whoever asked for the packing (the model) disposes
/// it when the weights go, after the last matmul that reads them. <see cref="Layout"/> is the packing kernel set's own
/// key for the arrangement; other sets ignore a layout they do not know and read the view's original bytes.
/// Thread-safety: reads may run concurrently; <see cref="Dispose"/> must not race them.
/// </summary>
public sealed unsafe class PackedTensor : IDisposable
{
    public PackedTensor(object layout, long byteLength)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfLessThan(byteLength, 1);
        Layout = layout;
        ByteLength = byteLength;
        Data = (byte*)NativeMemory.AlignedAlloc((nuint)byteLength, 64);
    }

    public object Layout { get; }

    /// <summary>Start of the packed bytes; null once disposed.</summary>
    public byte* Data { get; private set; }

    public long ByteLength { get; }

    /// <summary>True when the packing set's matmuls still read the original bytes for some calls (so the file pages
    /// behind them are worth keeping resident); false when the copy replaces them.</summary>
    public bool SourceStillRead { get; init; }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    // A model that is never disposed still gives the memory back when it is collected.
    ~PackedTensor() => Free();

    private void Free()
    {
        var data = Data;
        Data = null;
        if (data != null) NativeMemory.AlignedFree(data);
    }
}
