using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

// The symmetric K formats (value = d * sc * q, no min): Q3_K, Q6_K and Q8_K, per the quantize_row_*_K_ref
// functions of ggml-quants.c. Q3_K and Q6_K fit signed group scales, quantize them against a half super-block
// scale, then re-derive every code from the values as stored; Q8_K keeps one float scale.
public static unsafe partial class Quantize
{
    /// <summary>Per <c>quantize_row_q3_K_ref</c>: 16 groups of 16, 3-bit codes, signed 6-bit scales.</summary>
    public static void Q3_K(ReadOnlySpan<float> src, Span<BlockQ3K> dst)
    {
        CheckLength(src, dst.Length, BlockQ3K.Elements);
        Span<sbyte> codes = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        Span<sbyte> stored = stackalloc sbyte[16];

        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 256, 256);
            float maxScale = 0;
            float amax = 0;
            for (int j = 0; j < 16; j++)
            {
                scales[j] = MakeQ3Quants(16, 4, x.Slice(16 * j, 16), codes.Slice(16 * j, 16));
                float scale = MathF.Abs(scales[j]);
                if (scale > amax)
                {
                    amax = scale;
                    maxScale = scales[j];
                }
            }

            BlockQ3K y = default;
            if (maxScale != 0)
            {
                float iscale = -32f / maxScale;
                for (int j = 0; j < 16; j++)
                {
                    int l = (sbyte)NearestInt(iscale * scales[j]);
                    l = Math.Max(-32, Math.Min(31, l)) + 32;
                    if (j < 8)
                    {
                        y.Scales[j] = (byte)(l & 0xF);
                    }
                    else
                    {
                        y.Scales[j - 8] |= (byte)((l & 0xF) << 4);
                    }
                    l >>= 4;
                    y.Scales[j % 4 + 8] |= (byte)(l << (2 * (j / 4)));
                }
                y.D = Fp16.FromFloat(1 / iscale);
            }
            else
            {
                y.D = Fp16.FromFloat(0f);
            }

            FinishQ3K(x, codes, &y, stored);
            dst[i] = y;
        }
    }

    /// <summary>Re-derives the Q3_K codes from the stored 6-bit scales and half super-scale, then packs them.</summary>
    private static void FinishQ3K(ReadOnlySpan<float> x, Span<sbyte> codes, BlockQ3K* y, Span<sbyte> stored)
    {
        Dequantize.UnpackQ3KScales(y->Scales, stored);
        for (int j = 0; j < 16; j++)
        {
            float d = Fp16.ToFloat(y->D) * (stored[j] - 32);
            if (d == 0)
            {
                continue;
            }
            for (int ii = 0; ii < 16; ii++)
            {
                int l = NearestInt(x[16 * j + ii] / d);
                codes[16 * j + ii] = (sbyte)(Math.Max(-4, Math.Min(3, l)) + 4);
            }
        }

        // High bit of code j goes to bit (j / 32) of HMask[j % 32]; the low two bits are packed like Q2_K.
        for (int j = 0; j < 256; j++)
        {
            if (codes[j] > 3)
            {
                y->HMask[j % 32] |= (byte)(1 << (j / 32));
                codes[j] -= 4;
            }
        }
        PackTwoBit(MemoryMarshal.AsBytes(codes), y->Qs);
    }

    /// <summary>Per <c>quantize_row_q6_K_ref</c>: 16 groups of 16, 6-bit codes, signed 8-bit scales.</summary>
    public static void Q6_K(ReadOnlySpan<float> src, Span<BlockQ6K> dst) => Q6K(src, dst, default);

    /// <summary>
    /// Q6_K with optional importance weights: ggml's <c>quantize_row_q6_K_impl</c> differs from the reference only
    /// in passing the raw importance values to make_qx_quants instead of x^2.
    /// </summary>
    private static void Q6K(ReadOnlySpan<float> src, Span<BlockQ6K> dst, ReadOnlySpan<float> importance)
    {
        CheckLength(src, dst.Length, BlockQ6K.Elements);
        Span<sbyte> codes = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];

        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 256, 256);
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                ReadOnlySpan<float> weights = importance.IsEmpty ? default : importance.Slice(256 * i + 16 * ib, 16);
                float scale = MakeQxQuants(16, 32, x.Slice(16 * ib, 16), codes.Slice(16 * ib, 16), weights);
                scales[ib] = scale;
                float absScale = MathF.Abs(scale);
                if (absScale > maxAbsScale)
                {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }

            BlockQ6K y = default;
            if (maxAbsScale < GroupMaxEps)
            {
                dst[i] = y; // all-zero block, d = +0
                continue;
            }

            float iscale = -128f / maxScale;
            y.D = Fp16.FromFloat(1 / iscale);
            for (int ib = 0; ib < 16; ib++)
            {
                y.Scales[ib] = (sbyte)Math.Min(127, NearestInt(iscale * scales[ib]));
            }

            FinishQ6K(x, codes, &y);
            dst[i] = y;
        }
    }

    /// <summary>Re-derives the Q6_K codes from the stored scales and half super-scale, then packs them.</summary>
    private static void FinishQ6K(ReadOnlySpan<float> x, Span<sbyte> codes, BlockQ6K* y)
    {
        float dStored = Fp16.ToFloat(y->D);
        for (int j = 0; j < 16; j++)
        {
            float d = dStored * y->Scales[j];
            if (d == 0)
            {
                continue;
            }
            for (int ii = 0; ii < 16; ii++)
            {
                int l = NearestInt(x[16 * j + ii] / d);
                codes[16 * j + ii] = (sbyte)(Math.Max(-32, Math.Min(31, l)) + 32);
            }
        }

        // Per 128 codes: low nibbles of codes l and l + 64 share Ql[l], of l + 32 and l + 96 share Ql[l + 32];
        // the four high 2-bit pairs share Qh[l].
        byte* ql = y->Ql;
        byte* qh = y->Qh;
        for (int j = 0; j < 256; j += 128)
        {
            for (int l = 0; l < 32; l++)
            {
                int c1 = codes[j + l];
                int c2 = codes[j + l + 32];
                int c3 = codes[j + l + 64];
                int c4 = codes[j + l + 96];
                ql[l] = (byte)((c1 & 0xF) | ((c3 & 0xF) << 4));
                ql[l + 32] = (byte)((c2 & 0xF) | ((c4 & 0xF) << 4));
                qh[l] = (byte)((c1 >> 4) | ((c2 >> 4) << 2) | ((c3 >> 4) << 4) | ((c4 >> 4) << 6));
            }
            ql += 64;
            qh += 32;
        }
    }

    /// <summary>Per <c>quantize_row_q8_K_ref</c>: float d = max / -127, codes nearest-even, plus group sums.</summary>
    public static void Q8_K(ReadOnlySpan<float> src, Span<BlockQ8K> dst)
    {
        CheckLength(src, dst.Length, BlockQ8K.Elements);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 256, 256);
            float max = 0;
            float amax = 0;
            for (int j = 0; j < 256; j++)
            {
                float ax = MathF.Abs(x[j]);
                if (ax > amax)
                {
                    amax = ax;
                    max = x[j];
                }
            }

            BlockQ8K y = default;
            if (amax == 0)
            {
                dst[i] = y;
                continue;
            }
            // ggml uses -127 rather than -128 so that codes stay in [-127, 127] (symmetric for the IQ2 dot products).
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++)
            {
                int v = NearestInt(iscale * x[j]);
                y.Qs[j] = (sbyte)Math.Min(127, v);
            }
            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int ii = 0; ii < 16; ii++)
                {
                    sum += y.Qs[j * 16 + ii];
                }
                y.BSums[j] = (short)sum;
            }
            y.D = 1 / iscale;
            dst[i] = y;
        }
    }

    /// <summary>
    /// Packs 256 two-bit codes as ggml's Q2_K/Q3_K do: within each half of 128 codes, byte l of the 32-byte slice
    /// holds codes l, l + 32, l + 64 and l + 96 at bits 0, 2, 4 and 6.
    /// </summary>
    private static void PackTwoBit(ReadOnlySpan<byte> codes, byte* qs)
    {
        for (int j = 0; j < 256; j += 128)
        {
            for (int l = 0; l < 32; l++)
            {
                qs[j / 4 + l] = (byte)(codes[j + l] | (codes[j + l + 32] << 2) | (codes[j + l + 64] << 4) | (codes[j + l + 96] << 6));
            }
        }
    }
}
