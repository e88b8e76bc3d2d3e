using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.IQ2_S"/> super-block: 256 weights in 8 groups of 32, 82 bytes. Layout per ggml-common.h
/// <c>block_iq2_s</c>: Qs holds 32 low bytes of 10-bit <c>iq2s_grid</c> indices followed by 32 explicit sign bytes,
/// Qh the top 2 bits of each index, Scales two 4-bit scales per group.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ2S
{
    public const int Elements = 256;

    /// <summary>Super-block scale, binary16 bits.</summary>
    public ushort D;
    public fixed byte Qs[64];
    public fixed byte Qh[8];
    public fixed byte Scales[8];
}
