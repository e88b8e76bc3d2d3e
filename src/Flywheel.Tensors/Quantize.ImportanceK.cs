namespace Flywheel.Tensors;

// K formats with an importance matrix, per quantize_row_q2_K_impl ... q5_K_impl in ggml-quants.c: group scales
// come from make_qkx3_quants / make_qx_quants on importance-weighted data, and the 4- or 6-bit scale codes from
// make_qp_quants weighted by each group's total weight, instead of a plain max-based rounding. (Q6_K's weighted
// path lives with Q6K in Quantize.KQuantsSymmetric.cs.)
public static unsafe partial class Quantize
{
    /// <summary>Per <c>quantize_row_q2_K_impl</c>; sigma2 is the super-block's mean square.</summary>
    private static void Q2KWeighted(ReadOnlySpan<float> src, Span<BlockQ2K> dst, ReadOnlySpan<float> importance)
    {
        Span<byte> codes = stackalloc byte[256];
        Span<byte> scratch = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        Span<float> groupWeights = stackalloc float[16];
        Span<byte> scaleCodes = stackalloc byte[16];
        Span<byte> minCodes = stackalloc byte[16];
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(256 * i, 256);
            float sigma2 = SuperBlockSumSquares(x) / 256;
            for (int j = 0; j < 16; j++)
            {
                ReadOnlySpan<float> xg = x.Slice(16 * j, 16);
                ReadOnlySpan<float> qw = importance.Slice(256 * i + 16 * j, 16);
                groupWeights[j] = 0;
                for (int l = 0; l < 16; l++)
                {
                    weights[l] = qw[l] * MathF.Sqrt(sigma2 + xg[l] * xg[l]);
                }
                for (int l = 0; l < 16; l++)
                {
                    groupWeights[j] += weights[l];
                }
                scales[j] = MakeQkx3Quants(16, 3, xg, weights, codes.Slice(16 * j, 16), out mins[j], scratch, -0.9f, 0.05f, 36, false);
            }

            float dm = MakeQpQuants(16, 15, scales, scaleCodes, groupWeights);
            float mm = MakeQpQuants(16, 15, mins, minCodes, groupWeights);
            BlockQ2K y = default;
            y.D = Fp16.FromFloat(dm);
            y.DMin = Fp16.FromFloat(mm);
            for (int j = 0; j < 16; j++)
            {
                y.Scales[j] = (byte)(scaleCodes[j] | (minCodes[j] << 4));
            }
            FinishQ2K(x, codes, &y);
            dst[i] = y;
        }
    }

    /// <summary>Per <c>quantize_row_q3_K_impl</c>; sigma2 is twice the super-block's mean square.</summary>
    private static void Q3KWeighted(ReadOnlySpan<float> src, Span<BlockQ3K> dst, ReadOnlySpan<float> importance)
    {
        Span<sbyte> codes = stackalloc sbyte[256];
        Span<float> weights = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        Span<float> groupWeights = stackalloc float[16];
        Span<sbyte> scaleCodes = stackalloc sbyte[16];
        Span<sbyte> stored = stackalloc sbyte[16];
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(256 * i, 256);
            float sigma2 = 2 * SuperBlockSumSquares(x) / 256;
            for (int j = 0; j < 16; j++)
            {
                ReadOnlySpan<float> xg = x.Slice(16 * j, 16);
                ReadOnlySpan<float> qw = importance.Slice(256 * i + 16 * j, 16);
                float sum = 0;
                for (int l = 0; l < 16; l++)
                {
                    weights[l] = qw[l] * MathF.Sqrt(sigma2 + xg[l] * xg[l]);
                }
                for (int l = 0; l < 16; l++)
                {
                    sum += weights[l];
                }
                groupWeights[j] = sum;
                scales[j] = MakeQxQuants(16, 4, xg, codes.Slice(16 * j, 16), weights);
            }

            float dBlock = MakeQxQuants(16, 32, scales, scaleCodes, groupWeights);
            BlockQ3K y = default;
            for (int j = 0; j < 16; j++)
            {
                int l = scaleCodes[j];
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
            y.D = Fp16.FromFloat(dBlock);
            FinishQ3K(x, codes, &y, stored);
            dst[i] = y;
        }
    }

    /// <summary>
    /// Per <c>quantize_row_q4_K_impl</c> / <c>quantize_row_q5_K_impl</c> (exactly one of the destinations is
    /// non-empty). sigma2 is twice the super-block's mean square; only Q5_K clamps the scale codes to 63.
    /// </summary>
    private static void Q45KWeighted(ReadOnlySpan<float> src, Span<BlockQ4K> dst4, Span<BlockQ5K> dst5, ReadOnlySpan<float> importance)
    {
        bool five = dst4.IsEmpty;
        int nmax = five ? 31 : 15;
        int blocks = five ? dst5.Length : dst4.Length;
        Span<byte> codes = stackalloc byte[256];
        Span<byte> scratch = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        Span<float> groupWeights = stackalloc float[8];
        Span<byte> scaleCodes = stackalloc byte[8];
        Span<byte> minCodes = stackalloc byte[8];
        for (int i = 0; i < blocks; i++)
        {
            ReadOnlySpan<float> x = src.Slice(256 * i, 256);
            float sigma2 = 2 * SuperBlockSumSquares(x) / 256;
            for (int j = 0; j < 8; j++)
            {
                ReadOnlySpan<float> xg = x.Slice(32 * j, 32);
                ReadOnlySpan<float> qw = importance.Slice(256 * i + 32 * j, 32);
                float sum = 0;
                for (int l = 0; l < 32; l++)
                {
                    weights[l] = qw[l] * MathF.Sqrt(sigma2 + xg[l] * xg[l]);
                }
                for (int l = 0; l < 32; l++)
                {
                    sum += weights[l];
                }
                groupWeights[j] = sum;
                scales[j] = MakeQkx3Quants(32, nmax, xg, weights, codes.Slice(32 * j, 32), out mins[j], scratch, -0.9f, 0.05f, 36, false);
            }

            float dBlock = MakeQpQuants(8, 63, scales, scaleCodes, groupWeights);
            float mBlock = MakeQpQuants(8, 63, mins, minCodes, groupWeights);
            ushort dHalf = Fp16.FromFloat(dBlock);
            ushort dMinHalf = Fp16.FromFloat(mBlock);
            if (five)
            {
                BlockQ5K y = default;
                for (int j = 0; j < 8; j++)
                {
                    PackScaleMinK(j, Math.Min((byte)63, scaleCodes[j]), Math.Min((byte)63, minCodes[j]), y.Scales);
                }
                y.D = dHalf;
                y.DMin = dMinHalf;
                RequantizeK(x, nmax, codes, y.Scales, dHalf, dMinHalf);
                PackQ5KCodes(codes, y.Qs, y.Qh);
                dst5[i] = y;
            }
            else
            {
                BlockQ4K y = default;
                for (int j = 0; j < 8; j++)
                {
                    PackScaleMinK(j, scaleCodes[j], minCodes[j], y.Scales);
                }
                y.D = dHalf;
                y.DMin = dMinHalf;
                RequantizeK(x, nmax, codes, y.Scales, dHalf, dMinHalf);
                PackQ4KCodes(codes, y.Qs);
                dst4[i] = y;
            }
        }
    }

    /// <summary>
    /// ggml-quants.c <c>make_qp_quants</c>: codes in [0, nmax] for non-negative values (the group scales and mins of
    /// the K formats) with weighted search over 9 scales, then single-code moves as in make_q3_quants. Codes are
    /// bytes as in ggml, so a negative input wraps exactly as it does there.
    /// </summary>
    private static float MakeQpQuants(int n, int nmax, ReadOnlySpan<float> x, Span<byte> codes, ReadOnlySpan<float> weights)
    {
        float max = 0;
        for (int i = 0; i < n; i++)
        {
            max = CMax(max, x[i]);
        }
        if (max < GroupMaxEps)
        {
            codes[..n].Clear();
            return 0f;
        }

        float iscale = nmax / max;
        for (int i = 0; i < n; i++)
        {
            codes[i] = (byte)NearestInt(iscale * x[i]);
        }
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; i++)
        {
            float diff = x[i] - scale * codes[i];
            bestMse += weights[i] * diff * diff;
        }
        for (int step = -4; step <= 4; step++)
        {
            if (step == 0)
            {
                continue;
            }
            float iscaleStep = (0.1f * step + nmax) / max;
            float scaleStep = 1 / iscaleStep;
            float mse = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Min(nmax, NearestInt(iscaleStep * x[i]));
                float diff = x[i] - scaleStep * l;
                mse += weights[i] * diff * diff;
            }
            if (mse < bestMse)
            {
                bestMse = mse;
                iscale = iscaleStep;
            }
        }

        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Min(nmax, NearestInt(iscale * x[i]));
            codes[i] = (byte)l;
            float w = weights[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int pass = 0; pass < 5; pass++)
        {
            int changed = 0;
            for (int i = 0; i < n; i++)
            {
                float w = weights[i];
                float slx = sumlx - w * x[i] * codes[i];
                float sl2 = suml2 - w * codes[i] * codes[i];
                if (slx > 0 && sl2 > 0)
                {
                    int newL = Math.Min(nmax, NearestInt(x[i] * sl2 / slx));
                    if (newL != codes[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            codes[i] = (byte)newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0)
            {
                break;
            }
        }
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    private static float SuperBlockSumSquares(ReadOnlySpan<float> x)
    {
        float sum = 0;
        for (int j = 0; j < x.Length; j++)
        {
            sum += x[j] * x[j];
        }
        return sum;
    }
}
