using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q5_K"/> super-block: 256 weights in 8 groups of 32, 5-bit codes, 176 bytes.
/// Layout per ggml-common.h <c>block_q5_K</c>: scales packed as in <see cref="BlockQ4K"/>, the fifth bits in Qh.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5K
{
    public const int Elements = 256;

    /// <summary>Super-block scale for the group scales, binary16 bits.</summary>
    public ushort D;
    /// <summary>Super-block scale for the group mins, binary16 bits.</summary>
    public ushort DMin;
    public fixed byte Scales[12];
    public fixed byte Qh[32];
    public fixed byte Qs[128];
}
