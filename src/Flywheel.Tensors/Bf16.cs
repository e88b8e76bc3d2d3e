using System.Runtime.CompilerServices;

namespace Flywheel.Tensors;

/// <summary>
/// bfloat16 (GGUF <c>BF16</c>, the top 16 bits of an IEEE float) handled as raw <see cref="ushort"/> bits.
/// Matches ggml-impl.h <c>ggml_compute_bf16_to_fp32</c> / <c>ggml_compute_fp32_to_bf16</c> bit for bit.
/// Stateless and thread-safe.
/// </summary>
public static class Bf16
{
    /// <summary>Widens bf16 bits to a float; exact, NaN payloads included.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>
    /// Narrows a float to bf16 bits with round-to-nearest-even. A NaN is truncated and forced quiet by setting
    /// bit 6 of the result (float bit 22), exactly as ggml does, so it never rounds into infinity.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u)
        {
            return (ushort)((u >> 16) | 64);
        }
        // Adding 0x7FFF plus the lowest kept bit rounds half to even; overflow carries into the exponent,
        // which is how the largest finite values round up to infinity.
        return (ushort)((u + (0x7FFFu + ((u >> 16) & 1))) >> 16);
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
