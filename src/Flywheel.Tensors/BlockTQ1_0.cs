using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.TQ1_0"/> super-block: 256 ternary weights (-1, 0, 1) times a half scale, 54 bytes.
/// Layout per ggml-common.h <c>block_tq1_0</c>: Qs packs 5 trits per byte and Qh 4 trits per byte, each byte
/// holding the base-3 number scaled to 0..255 so a trit is read with a multiply instead of a division.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockTQ1_0
{
    public const int Elements = 256;

    public fixed byte Qs[48];
    public fixed byte Qh[4];
    /// <summary>Scale, binary16 bits.</summary>
    public ushort D;
}
