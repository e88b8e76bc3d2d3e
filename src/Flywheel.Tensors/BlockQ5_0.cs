using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q5_0"/> block: 32 weights as 5-bit codes around 16 with one half scale, 22 bytes.
/// Layout per ggml-common.h <c>block_q5_0</c>: the low 4 bits are packed as in <see cref="BlockQ4_0"/>, bit j of
/// the little-endian uint32 in Qh is the fifth bit of weight j. Value = (code - 16) * D.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_0
{
    public const int Elements = 32;

    /// <summary>Scale, binary16 bits.</summary>
    public ushort D;
    public fixed byte Qh[4];
    public fixed byte Qs[16];
}
