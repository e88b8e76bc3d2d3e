using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q4_1"/> block: 32 weights as 4-bit codes with a half scale and a half minimum, 20 bytes.
/// Layout per ggml-common.h <c>block_q4_1</c>; nibble order as in <see cref="BlockQ4_0"/>. Value = code * D + M.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_1
{
    public const int Elements = 32;

    /// <summary>Scale, binary16 bits.</summary>
    public ushort D;
    /// <summary>Minimum, binary16 bits.</summary>
    public ushort M;
    public fixed byte Qs[16];
}
