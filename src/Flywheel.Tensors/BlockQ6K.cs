using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q6_K"/> super-block: 256 weights in 16 groups of 16, 6-bit codes, 210 bytes.
/// Layout per ggml-common.h <c>block_q6_K</c>: low 4 bits in Ql, high 2 bits in Qh, signed 8-bit group scales.
/// Value = D * Scales[g] * (code - 32).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6K
{
    public const int Elements = 256;

    public fixed byte Ql[128];
    public fixed byte Qh[64];
    public fixed sbyte Scales[16];
    /// <summary>Super-block scale, binary16 bits.</summary>
    public ushort D;
}
