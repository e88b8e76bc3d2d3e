using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q5_1"/> block: 32 weights as 5-bit codes with a half scale and minimum, 24 bytes.
/// Layout per ggml-common.h <c>block_q5_1</c>; bits packed as in <see cref="BlockQ5_0"/>. Value = code * D + M.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_1
{
    public const int Elements = 32;

    /// <summary>Scale, binary16 bits.</summary>
    public ushort D;
    /// <summary>Minimum, binary16 bits.</summary>
    public ushort M;
    public fixed byte Qh[4];
    public fixed byte Qs[16];
}
