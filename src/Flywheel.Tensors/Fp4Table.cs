namespace Flywheel.Tensors;

/// <summary>E2M1 (FP4) code points used by MXFP4.</summary>
internal static class Fp4Table
{
    /// <summary>
    /// Values per ggml-common.h <c>kvalues_mxfp4</c>: twice the E2M1 values (0, 0.5, 1, 1.5, 2, 3, 4, 6 and their
    /// negatives) so they fit in integers; the block scale carries the compensating factor of one half.
    /// </summary>
    public static ReadOnlySpan<sbyte> Values => [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

    /// <summary>
    /// ggml-impl.h <c>ggml_e8m0_to_fp32_half</c>: 2^(e - 128), i.e. half the E8M0 value, built from bits
    /// (subnormal patterns for e &lt; 2). e = 255 is not treated as NaN, matching ggml.
    /// </summary>
    public static float E8M0ToFloatHalf(byte e)
    {
        uint bits = e < 2 ? 0x00200000u << e : (uint)(e - 1) << 23;
        return BitConverter.UInt32BitsToSingle(bits);
    }
}
