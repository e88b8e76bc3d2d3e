using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q3_K"/> super-block: 256 weights in 16 groups of 16, 3-bit codes, 110 bytes.
/// Layout per ggml-common.h <c>block_q3_K</c>: low 2 bits in Qs, the high bit in HMask, and 16 signed 6-bit group
/// scales packed into 12 bytes. Value = D * (sc - 32) * (code - 4).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ3K
{
    public const int Elements = 256;

    public fixed byte HMask[32];
    public fixed byte Qs[64];
    public fixed byte Scales[12];
    /// <summary>Super-block scale, binary16 bits.</summary>
    public ushort D;
}
