using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.IQ1_M"/> super-block: 256 weights in 8 groups of 32, 56 bytes. Layout per ggml-common.h
/// <c>block_iq1_m</c>: 11-bit <c>iq1s_grid</c> indices (low bytes in Qs, high 3 bits and a shift-sign bit per 8
/// weights in Qh), 3-bit scales per 16 weights in Scales, whose top nibbles together form the half super-block scale.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ1M
{
    public const int Elements = 256;

    public fixed byte Qs[32];
    public fixed byte Qh[16];
    public fixed byte Scales[8];
}
