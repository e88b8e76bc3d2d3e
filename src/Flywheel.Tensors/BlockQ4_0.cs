using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q4_0"/> block: 32 weights as 4-bit codes around 8 with one half scale, 18 bytes.
/// Layout per ggml-common.h <c>block_q4_0</c>; weight j sits in the low nibble of Qs[j] for j &lt; 16 and in the
/// high nibble of Qs[j - 16] otherwise. Value = (code - 8) * D.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_0
{
    public const int Elements = 32;

    /// <summary>Scale, binary16 bits.</summary>
    public ushort D;
    public fixed byte Qs[16];
}
