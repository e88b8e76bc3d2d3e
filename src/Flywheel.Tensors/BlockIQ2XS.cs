using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.IQ2_XS"/> super-block: 256 weights in 8 groups of 32, 74 bytes. Layout per ggml-common.h
/// <c>block_iq2_xs</c>: each Qs entry is a 9-bit <c>iq2xs_grid</c> index plus a 7-bit sign pattern for 8 weights;
/// Scales holds two 4-bit scales per group (one per 16 weights).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ2XS
{
    public const int Elements = 256;

    /// <summary>Super-block scale, binary16 bits.</summary>
    public ushort D;
    public fixed ushort Qs[32];
    public fixed byte Scales[8];
}
