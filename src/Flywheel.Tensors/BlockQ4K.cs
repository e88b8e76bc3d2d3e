using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q4_K"/> super-block: 256 weights in 8 groups of 32, 4-bit codes, 144 bytes.
/// Layout per ggml-common.h <c>block_q4_K</c>: 8 six-bit scales and 8 six-bit mins packed into 12 bytes
/// (see ggml-quants.c <c>get_scale_min_k4</c>). Value = D * sc * code - DMin * m.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4K
{
    public const int Elements = 256;

    /// <summary>Super-block scale for the group scales, binary16 bits.</summary>
    public ushort D;
    /// <summary>Super-block scale for the group mins, binary16 bits.</summary>
    public ushort DMin;
    public fixed byte Scales[12];
    public fixed byte Qs[128];
}
