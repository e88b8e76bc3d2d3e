using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q8_K"/> super-block: 256 signed 8-bit weights with a float scale and the sums of each
/// group of 16 codes, 292 bytes. Layout per ggml-common.h <c>block_q8_K</c> (the only block with an F32 scale).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8K
{
    public const int Elements = 256;

    public float D;
    public fixed sbyte Qs[256];
    /// <summary>Sum of Qs[16g .. 16g + 15] for each group g.</summary>
    public fixed short BSums[16];
}
