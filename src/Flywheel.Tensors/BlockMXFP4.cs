using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// One <see cref="GgmlType.MXFP4"/> block (OCP microscaling FP4): 32 E2M1 values sharing one power-of-two scale,
/// 17 bytes. Layout per ggml-common.h <c>block_mxfp4</c>: E is an E8M0 exponent, nibbles are ordered as in
/// <see cref="BlockQ4_0"/> and index <c>kvalues_mxfp4</c> (twice the E2M1 values). Value = 2^(E - 128) * table[code].
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockMXFP4
{
    public const int Elements = 32;

    /// <summary>Shared exponent, E8M0 (biased by 127).</summary>
    public byte E;
    public fixed byte Qs[16];
}
