using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.Q8_0"/> block: 32 signed 8-bit weights with one half scale, 34 bytes.
/// Layout per ggml-common.h <c>block_q8_0</c>. Value = Qs[j] * D.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0
{
    public const int Elements = 32;

    /// <summary>Scale, binary16 bits.</summary>
    public ushort D;
    public fixed sbyte Qs[32];
}
