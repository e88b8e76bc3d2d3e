using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.IQ1_S"/> super-block: 256 weights in 8 groups of 32, 50 bytes. Layout per ggml-common.h
/// <c>block_iq1_s</c>: 11-bit <c>iq1s_grid</c> indices (low bytes in Qs, 3 high bits each in Qh); the top bits of
/// each Qh word hold a 3-bit group scale and the sign of the group shift (IQ1S_DELTA).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ1S
{
    public const int Elements = 256;

    /// <summary>Super-block scale, binary16 bits.</summary>
    public ushort D;
    public fixed byte Qs[32];
    public fixed ushort Qh[8];
}
