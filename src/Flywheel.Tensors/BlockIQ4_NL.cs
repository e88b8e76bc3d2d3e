using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.IQ4_NL"/> block: 32 weights as 4-bit indices into the non-linear table
/// <c>kvalues_iq4nl</c>, one half scale, 18 bytes. Layout per ggml-common.h <c>block_iq4_nl</c>; nibble order as in
/// <see cref="BlockQ4_0"/>. Value = D * table[code].
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ4_NL
{
    public const int Elements = 32;

    /// <summary>Scale, binary16 bits.</summary>
    public ushort D;
    public fixed byte Qs[16];
}
