using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.TQ2_0"/> super-block: 256 ternary weights as 2-bit codes (0..2 meaning -1..1) times a
/// half scale, 66 bytes. Layout per ggml-common.h <c>block_tq2_0</c>: within each 32-byte slice, byte m holds
/// weights m, m + 32, m + 64 and m + 96 of that slice's 128 at bits 0, 2, 4 and 6.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockTQ2_0
{
    public const int Elements = 256;

    public fixed byte Qs[64];
    /// <summary>Scale, binary16 bits.</summary>
    public ushort D;
}
