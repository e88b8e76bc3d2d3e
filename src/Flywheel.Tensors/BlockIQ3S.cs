using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.IQ3_S"/> super-block: 256 weights in 8 groups of 32, 110 bytes. Layout per ggml-common.h
/// <c>block_iq3_s</c>: 9-bit <c>iq3s_grid</c> indices (low bytes in Qs, high bits in Qh), explicit sign bits, and
/// one 4-bit scale per pair of groups.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ3S
{
    public const int Elements = 256;

    /// <summary>Super-block scale, binary16 bits.</summary>
    public ushort D;
    public fixed byte Qs[64];
    public fixed byte Qh[8];
    public fixed byte Signs[32];
    public fixed byte Scales[4];
}
