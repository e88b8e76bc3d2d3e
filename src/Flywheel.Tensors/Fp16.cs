using System.Runtime.CompilerServices;

namespace Flywheel.Tensors;

/// <summary>
/// IEEE 754 binary16 (GGUF <c>F16</c>, ggml's <c>ggml_fp16_t</c>) handled as raw <see cref="ushort"/> bits.
/// Both directions reproduce ggml's portable conversions bit for bit (ggml-impl.h,
/// <c>ggml_compute_fp16_to_fp32</c> / <c>ggml_compute_fp32_to_fp16</c>), which is what llama.cpp uses when it
/// writes scales into quantized blocks and when it dequantizes them. Stateless and thread-safe.
/// </summary>
public static class Fp16
{
    /// <summary>Widens half bits to a float. Exact for every finite value and infinity; a NaN keeps its payload
    /// and comes back quiet (bit 22 set), as the multiply inside ggml's conversion does on x86 and ARM.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort h)
    {
        uint sign = (uint)(h & 0x8000) << 16;
        uint exponent = (uint)(h >> 10) & 0x1F;
        uint mantissa = (uint)h & 0x3FF;
        if (exponent == 0)
        {
            // Zero or subnormal: the value is mantissa * 2^-24, exactly representable as a float.
            float magnitude = mantissa * (1.0f / 16777216.0f);
            return BitConverter.UInt32BitsToSingle(sign | BitConverter.SingleToUInt32Bits(magnitude));
        }
        if (exponent == 31)
        {
            return mantissa == 0
                ? BitConverter.UInt32BitsToSingle(sign | 0x7F800000u)
                : BitConverter.UInt32BitsToSingle(sign | 0x7FC00000u | (mantissa << 13));
        }
        // Rebias the exponent from 15 to 127.
        return BitConverter.UInt32BitsToSingle(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /// <summary>
    /// Narrows a float to half bits with round-to-nearest-even; overflow goes to infinity, and every NaN becomes
    /// the canonical quiet NaN 0x7E00 with the input's sign (ggml drops the payload, unlike System.Half).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float f)
    {
        // Same steps as ggml_compute_fp32_to_fp16: scaling by 2^112 then 2^-110 saturates large values to
        // infinity, and adding a power of two sized to the target exponent makes the FPU do the rounding.
        const float scaleToInf = 5.192296858534828e+33f;  // 2^112
        const float scaleToZero = 7.703719777548943e-34f; // 2^-110
        float baseValue = MathF.Abs(f) * scaleToInf * scaleToZero;

        uint w = BitConverter.SingleToUInt32Bits(f);
        uint shl1W = w + w;
        uint sign = w & 0x80000000u;
        uint bias = shl1W & 0xFF000000u;
        if (bias < 0x71000000u)
        {
            bias = 0x71000000u;
        }

        baseValue = BitConverter.UInt32BitsToSingle((bias >> 1) + 0x07800000u) + baseValue;
        uint bits = BitConverter.SingleToUInt32Bits(baseValue);
        uint exponentBits = (bits >> 13) & 0x00007C00u;
        uint mantissaBits = bits & 0x00000FFFu;
        uint nonSign = exponentBits + mantissaBits;
        return (ushort)((sign >> 16) | (shl1W > 0xFF000000u ? 0x7E00u : nonSign));
    }

    /// <summary>Widens <paramref name="src"/> into <paramref name="dst"/>; lengths must match.</summary>
    public static void ToFloat(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (src.Length != dst.Length)
        {
            throw new ArgumentException("source and destination lengths differ", nameof(dst));
        }
        for (int i = 0; i < src.Length; i++)
        {
            dst[i] = ToFloat(src[i]);
        }
    }

    /// <summary>Narrows <paramref name="src"/> into <paramref name="dst"/>; lengths must match.</summary>
    public static void FromFloat(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (src.Length != dst.Length)
        {
            throw new ArgumentException("source and destination lengths differ", nameof(dst));
        }
        for (int i = 0; i < src.Length; i++)
        {
            dst[i] = FromFloat(src[i]);
        }
    }
}
