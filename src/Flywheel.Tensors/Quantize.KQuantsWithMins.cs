namespace Flywheel.Tensors;

// The K formats with a scale and a min per group (value = d * sc * q - dmin * m): Q2_K, Q4_K and Q5_K, per the
// quantize_row_*_K_ref functions of ggml-quants.c (llama-quantize's path without an importance matrix). Each fits
// per-group scales and mins in float, quantizes those against half super-block scales, then re-derives every code
// from the values as stored.
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
}
