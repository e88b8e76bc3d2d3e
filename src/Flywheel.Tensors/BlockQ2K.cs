using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q2_K"/> super-block: 256 weights in 16 groups of 16, 2-bit codes, 84 bytes.
/// Layout per ggml-common.h <c>block_q2_K</c>: Scales[g] holds the group scale (low nibble) and min (high nibble),
/// each 4-bit and multiplied by D / DMin. Value = D * sc * code - DMin * m.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ2K
{
    public const int Elements = 256;

    public fixed byte Scales[16];
    public fixed byte Qs[64];
    /// <summary>Super-block scale for the group scales, binary16 bits.</summary>
    public ushort D;
    /// <summary>Super-block scale for the group mins, binary16 bits.</summary>
    public ushort DMin;
}
