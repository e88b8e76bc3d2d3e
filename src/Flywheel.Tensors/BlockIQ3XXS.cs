using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.IQ3_XXS"/> super-block: 256 weights in 8 groups of 32, 98 bytes. Layout per
/// ggml-common.h <c>block_iq3_xxs</c>: Qs holds 64 <c>iq3xxs_grid</c> indices (4 weights each), then per group a
/// little-endian uint32 with four 7-bit sign patterns and (top 4 bits) the group scale.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ3XXS
{
    public const int Elements = 256;

    /// <summary>Super-block scale, binary16 bits.</summary>
    public ushort D;
    public fixed byte Qs[96];
}
