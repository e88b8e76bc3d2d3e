namespace Flywheel.Tensors;

// The 256-element "K" formats, per the quantize_row_*_K_ref functions of ggml-quants.c (llama-quantize's path
// when no importance matrix is given). Each first fits per-group scales (and mins) in float, quantizes those to
// 4, 6 or 8 bits against a half super-block scale, then re-derives every code from the scales as stored.
public static unsafe partial class Quantize
{
    /// <summary>Per <c>quantize_row_q2_K_ref</c>: 16 groups of 16, 2-bit codes, 4-bit scales and mins.</summary>
    public static void Q2_K(ReadOnlySpan<float> src, Span<BlockQ2K> dst)
    {
        CheckLength(src, dst.Length, BlockQ2K.Elements);
        Span<byte> codes = stackalloc byte[256];
        Span<byte> scratch = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        const float q4Scale = 15f;

        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 256, 256);
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < 16; j++)
            {
                ReadOnlySpan<float> xg = x.Slice(16 * j, 16);
                for (int l = 0; l < 16; l++)
                {
                    weights[l] = MathF.Abs(xg[l]);
                }
                scales[j] = MakeQkx2Quants(16, 3, xg, weights, codes.Slice(16 * j, 16), out mins[j], scratch, -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale)
                {
                    maxScale = scales[j];
                }
                if (mins[j] > maxMin)
                {
                    maxMin = mins[j];
                }
            }

            BlockQ2K y = default;
            if (maxScale > 0)
            {
                float iscale = q4Scale / maxScale;
                for (int j = 0; j < 16; j++)
                {
                    y.Scales[j] = (byte)NearestInt(iscale * scales[j]);
                }
                y.D = Fp16.FromFloat(maxScale / q4Scale);
            }
            else
            {
                y.D = Fp16.FromFloat(0f);
            }
            if (maxMin > 0)
            {
                float iscale = q4Scale / maxMin;
                for (int j = 0; j < 16; j++)
                {
                    int l = NearestInt(iscale * mins[j]);
                    y.Scales[j] = (byte)(y.Scales[j] | (l << 4));
                }
                y.DMin = Fp16.FromFloat(maxMin / q4Scale);
            }
            else
            {
                y.DMin = Fp16.FromFloat(0f);
            }

            FinishQ2K(x, codes, &y);
            dst[i] = y;
        }
    }

    /// <summary>Re-derives the Q2_K codes from the stored scales, mins and half super-scales, then packs them.</summary>
    private static void FinishQ2K(ReadOnlySpan<float> x, Span<byte> codes, BlockQ2K* y)
    {
        for (int j = 0; j < 16; j++)
        {
            float d = Fp16.ToFloat(y->D) * (y->Scales[j] & 0xF);
            if (d == 0)
            {
                continue; // keep the codes from the fit; they dequantize to -dm anyway
            }
            float dm = Fp16.ToFloat(y->DMin) * (y->Scales[j] >> 4);
            for (int ii = 0; ii < 16; ii++)
            {
                int l = NearestInt((x[16 * j + ii] + dm) / d);
                codes[16 * j + ii] = (byte)Math.Max(0, Math.Min(3, l));
            }
        }
        PackTwoBit(codes, y->Qs);
    }

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
        PackTwoBit(System.Runtime.InteropServices.MemoryMarshal.AsBytes(codes), y->Qs);
    }

    /// <summary>Per <c>quantize_row_q4_K_ref</c>: 8 groups of 32, 4-bit codes, 6-bit scales and mins.</summary>
    public static void Q4_K(ReadOnlySpan<float> src, Span<BlockQ4K> dst)
    {
        CheckLength(src, dst.Length, BlockQ4K.Elements);
        Span<byte> codes = stackalloc byte[256];
        for (int i = 0; i < dst.Length; i++)
        {
            BlockQ4K y = default;
            FitScalesMinsK(src.Slice(i * 256, 256), 15, -1f, 0.1f, 20, codes, y.Scales, out y.D, out y.DMin);
            PackQ4KCodes(codes, y.Qs);
            dst[i] = y;
        }
    }

    /// <summary>Per <c>quantize_row_q5_K_ref</c>: 8 groups of 32, 5-bit codes, 6-bit scales and mins.</summary>
    public static void Q5_K(ReadOnlySpan<float> src, Span<BlockQ5K> dst)
    {
        CheckLength(src, dst.Length, BlockQ5K.Elements);
        Span<byte> codes = stackalloc byte[256];
        for (int i = 0; i < dst.Length; i++)
        {
            BlockQ5K y = default;
            FitScalesMinsK(src.Slice(i * 256, 256), 31, -0.5f, 0.1f, 15, codes, y.Scales, out y.D, out y.DMin);
            PackQ5KCodes(codes, y.Qs, y.Qh);
            dst[i] = y;
        }
    }

    /// <summary>Per 64 codes: byte l of the 32-byte slice holds code l (low nibble) and code l + 32 (high nibble).</summary>
    private static void PackQ4KCodes(ReadOnlySpan<byte> codes, byte* q)
    {
        for (int j = 0; j < 256; j += 64)
        {
            for (int l = 0; l < 32; l++)
            {
                q[l] = (byte)(codes[j + l] | (codes[j + l + 32] << 4));
            }
            q += 32;
        }
    }

    /// <summary>Low nibbles as in Q4_K; the fifth bit of chunk c (64 codes) lands in bits 2c and 2c + 1 of Qh.</summary>
    private static void PackQ5KCodes(ReadOnlySpan<byte> codes, byte* ql, byte* qh)
    {
        int m1 = 1;
        int m2 = 2;
        for (int n = 0; n < 256; n += 64)
        {
            for (int j = 0; j < 32; j++)
            {
                int l1 = codes[n + j];
                if (l1 > 15)
                {
                    l1 -= 16;
                    qh[j] |= (byte)m1;
                }
                int l2 = codes[n + j + 32];
                if (l2 > 15)
                {
                    l2 -= 16;
                    qh[j] |= (byte)m2;
                }
                ql[j] = (byte)(l1 | (l2 << 4));
            }
            m1 <<= 2;
            m2 <<= 2;
            ql += 32;
        }
    }

    /// <summary>
    /// The shared part of Q4_K and Q5_K: per group of 32, weights av_x + |x| and make_qkx2_quants; then 6-bit
    /// scales and mins against max/63, packed per get_scale_min_k4; then codes re-derived from stored values.
    /// </summary>
    private static void FitScalesMinsK(ReadOnlySpan<float> x, int nmax, float rmin, float rdelta, int nstep,
        Span<byte> codes, byte* packed, out ushort dHalf, out ushort dMinHalf)
    {
        Span<byte> scratch = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++)
        {
            ReadOnlySpan<float> xg = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (int l = 0; l < 32; l++)
            {
                sumX2 += xg[l] * xg[l];
            }
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++)
            {
                weights[l] = avX + MathF.Abs(xg[l]);
            }
            scales[j] = MakeQkx2Quants(32, nmax, xg, weights, codes.Slice(32 * j, 32), out mins[j], scratch, rmin, rdelta, nstep, false);
            if (scales[j] > maxScale)
            {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin)
            {
                maxMin = mins[j];
            }
        }

        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++)
        {
            // ggml stores nearest_int into a uint8_t before clamping, so a negative result wraps, then clamps to 63.
            byte ls = Math.Min((byte)63, (byte)NearestInt(invScale * scales[j]));
            byte lm = Math.Min((byte)63, (byte)NearestInt(invMin * mins[j]));
            PackScaleMinK(j, ls, lm, packed);
        }
        dHalf = Fp16.FromFloat(maxScale / 63f);
        dMinHalf = Fp16.FromFloat(maxMin / 63f);
        RequantizeK(x, nmax, codes, packed, dHalf, dMinHalf);
    }

    /// <summary>Stores 6-bit scale and min number j of a Q4_K/Q5_K block, the inverse of get_scale_min_k4.</summary>
    private static void PackScaleMinK(int j, byte ls, byte lm, byte* packed)
    {
        if (j < 4)
        {
            packed[j] = ls;
            packed[j + 4] = lm;
        }
        else
        {
            packed[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
            packed[j - 4] |= (byte)((ls >> 4) << 6);
            packed[j] |= (byte)((lm >> 4) << 6);
        }
    }

    /// <summary>Re-derives every Q4_K/Q5_K code from the scales and mins as stored (half super-scales included).</summary>
    private static void RequantizeK(ReadOnlySpan<float> x, int nmax, Span<byte> codes, byte* packed, ushort dHalf, ushort dMinHalf)
    {
        float dStored = Fp16.ToFloat(dHalf);
        float dMinStored = Fp16.ToFloat(dMinHalf);
        for (int j = 0; j < 8; j++)
        {
            Dequantize.ScaleMinK4(j, packed, out byte sc, out byte m);
            float d = dStored * sc;
            if (d == 0)
            {
                continue;
            }
            float dm = dMinStored * m;
            for (int ii = 0; ii < 32; ii++)
            {
                int l = NearestInt((x[32 * j + ii] + dm) / d);
                codes[32 * j + ii] = (byte)Math.Max(0, Math.Min(nmax, l));
            }
        }
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
