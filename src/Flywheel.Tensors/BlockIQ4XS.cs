using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.IQ4_XS"/> super-block: 256 weights in 8 groups of 32 as indices into
/// <c>kvalues_iq4nl</c>, with 6-bit group scales, 136 bytes. Layout per ggml-common.h <c>block_iq4_xs</c>: the low
/// 4 bits of the scale of group g are nibble g % 2 of ScalesL[g / 2], the high 2 bits are bits 2g..2g+1 of ScalesH.
/// Value = D * (ls - 32) * table[code].
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ4XS
{
    public const int Elements = 256;

    /// <summary>Super-block scale, binary16 bits.</summary>
    public ushort D;
    public ushort ScalesH;
    public fixed byte ScalesL[4];
    public fixed byte Qs[128];
}
