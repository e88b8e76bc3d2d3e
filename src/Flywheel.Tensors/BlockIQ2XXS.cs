using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.IQ2_XXS"/> super-block: 256 weights in 8 groups of 32, 66 bytes. Layout per ggml-common.h
/// <c>block_iq2_xxs</c>: per group, two little-endian uint32 words in Qs; the bytes of the first pick four points
/// of <c>iq2xxs_grid</c>, the second holds four 7-bit sign patterns and (top 4 bits) the group scale.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ2XXS
{
    public const int Elements = 256;

    /// <summary>Super-block scale, binary16 bits.</summary>
    public ushort D;
    public fixed ushort Qs[32];
}
