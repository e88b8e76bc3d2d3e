using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q8_1"/> block: like <see cref="BlockQ8_0"/> plus S = D * sum(Qs), 36 bytes. ggml uses it
/// only for activations in dot products; layout per ggml-common.h <c>block_q8_1</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_1
{
    public const int Elements = 32;

    /// <summary>Scale, binary16 bits.</summary>
    public ushort D;
    /// <summary>D times the sum of the codes, binary16 bits.</summary>
    public ushort S;
    public fixed sbyte Qs[32];
}
