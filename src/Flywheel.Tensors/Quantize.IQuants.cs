namespace Flywheel.Tensors;

// Non-linear 4-bit formats, per quantize_row_iq4_nl_impl in ggml-quants.c as llama-quantize calls it through
// quantize_iq4_nl / quantize_iq4_xs: ntry = 7, and weights x^2 without an importance matrix or
// importance * sqrt(sigma2 + x^2) with one. (ggml's quantize_row_iq4_nl_ref passes ntry = -1 and gives different
// bytes; llama-quantize never uses it.)
public static unsafe partial class Quantize
{
    private const int Iq4Tries = 7;

    /// <summary>IQ4_NL: one scale per 32 values, stored directly as half.</summary>
    public static void IQ4_NL(ReadOnlySpan<float> src, Span<BlockIQ4_NL> dst) => Iq4Nl(src, dst, default);

    private static void Iq4Nl(ReadOnlySpan<float> src, Span<BlockIQ4_NL> dst, ReadOnlySpan<float> importance)
    {
        CheckLength(src, dst.Length, BlockIQ4_NL.Elements);
        Span<byte> codes = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        ReadOnlySpan<sbyte> values = Iq4NlTable.Values;
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            Iq4Weights(x, x, importance.IsEmpty ? default : importance.Slice(i * 32, 32), weights);
            float scale = FitIq4Group(x, codes, weights);

            BlockIQ4_NL y = default;
            y.D = Fp16.FromFloat(scale);
            // With a single group the codes are re-picked against the unrounded float scale.
            float id = scale != 0 ? 1 / scale : 0;
            for (int j = 0; j < 32; j++)
            {
                codes[j] = (byte)BestIndex(values, id * x[j]);
            }
            PackNibbles(codes, y.Qs, 1);
            dst[i] = y;
        }
    }

    /// <summary>IQ4_XS: 8 groups of 32 with 6-bit signed group scales against one half super-block scale.</summary>
    public static void IQ4_XS(ReadOnlySpan<float> src, Span<BlockIQ4XS> dst) => Iq4Xs(src, dst, default);

    private static void Iq4Xs(ReadOnlySpan<float> src, Span<BlockIQ4XS> dst, ReadOnlySpan<float> importance)
    {
        CheckLength(src, dst.Length, BlockIQ4XS.Elements);
        Span<byte> codes = stackalloc byte[256];
        Span<float> weights = stackalloc float[32];
        Span<float> scales = stackalloc float[8];
        ReadOnlySpan<sbyte> values = Iq4NlTable.Values;
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 256, 256);
            float maxScale = 0;
            float amaxScale = 0;
            for (int ib = 0; ib < 8; ib++)
            {
                ReadOnlySpan<float> xb = x.Slice(32 * ib, 32);
                Iq4Weights(x, xb, importance.IsEmpty ? default : importance.Slice(i * 256 + 32 * ib, 32), weights);
                float d = FitIq4Group(xb, codes.Slice(32 * ib, 32), weights);
                scales[ib] = d;
                float absD = MathF.Abs(d);
                if (absD > amaxScale)
                {
                    amaxScale = absD;
                    maxScale = d;
                }
            }

            BlockIQ4XS y = default;
            float dBlock = -maxScale / 32;
            y.D = Fp16.FromFloat(dBlock);
            float idBlock = dBlock != 0 ? 1 / dBlock : 0f;
            for (int ib = 0; ib < 8; ib++)
            {
                int l = NearestInt(idBlock * scales[ib]);
                l = Math.Max(-32, Math.Min(31, l));
                // Codes are re-picked against the float group scale d * l (not its half-rounded value).
                float dl = dBlock * l;
                float idl = dl != 0 ? 1 / dl : 0f;
                for (int j = 0; j < 32; j++)
                {
                    codes[32 * ib + j] = (byte)BestIndex(values, idl * x[32 * ib + j]);
                }
                l += 32;
                int low = l & 0xF;
                int high = l >> 4;
                if (ib % 2 == 0)
                {
                    y.ScalesL[ib / 2] = (byte)low;
                }
                else
                {
                    y.ScalesL[ib / 2] |= (byte)(low << 4);
                }
                y.ScalesH |= (ushort)(high << (2 * ib));
            }
            PackNibbles(codes, y.Qs, 8);
            dst[i] = y;
        }
    }

    /// <summary>
    /// The per-group search of quantize_row_iq4_nl_impl: start from d = max / 127 (the extreme lands on the
    /// positive end of the table) and refit by weighted least squares; then try 15 inverse scales (itry - 127) / max
    /// that put the extreme near the longer negative end, and keep the best fit. Returns the float group scale;
    /// <paramref name="codes"/> hold the first pass's picks (callers re-pick them against the final scale).
    /// </summary>
    private static float FitIq4Group(ReadOnlySpan<float> xb, Span<byte> codes, ReadOnlySpan<float> weights)
    {
        ReadOnlySpan<sbyte> values = Iq4NlTable.Values;
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++)
        {
            float ax = MathF.Abs(xb[j]);
            if (ax > amax)
            {
                amax = ax;
                max = xb[j];
            }
        }
        if (amax < GroupMaxEps)
        {
            codes[..32].Clear();
            return 0f;
        }

        float d = -max / values[0];
        float id = 1 / d;
        float sumqx = 0;
        float sumq2 = 0;
        for (int j = 0; j < 32; j++)
        {
            int l = BestIndex(values, id * xb[j]);
            codes[j] = (byte)l;
            float q = values[l];
            float w = weights[j];
            sumqx += w * q * xb[j];
            sumq2 += w * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0f;
        float best = d * sumqx;
        for (int attempt = -Iq4Tries; attempt <= Iq4Tries; attempt++)
        {
            id = (attempt + values[0]) / max;
            sumqx = 0;
            sumq2 = 0;
            for (int j = 0; j < 32; j++)
            {
                int l = BestIndex(values, id * xb[j]);
                float q = values[l];
                float w = weights[j];
                sumqx += w * q * xb[j];
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2)
            {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        return d;
    }

    /// <summary>
    /// Weights of one group of 32: x^2, or with an importance matrix importance * sqrt(sigma2 + x^2) where
    /// sigma2 = 2 * mean(x^2) over the super-block (32 values for IQ4_NL, 256 for IQ4_XS).
    /// </summary>
    private static void Iq4Weights(ReadOnlySpan<float> superBlock, ReadOnlySpan<float> xb, ReadOnlySpan<float> importance, Span<float> weights)
    {
        if (importance.IsEmpty)
        {
            for (int j = 0; j < 32; j++)
            {
                weights[j] = xb[j] * xb[j];
            }
            return;
        }
        float sigma2 = 0;
        for (int j = 0; j < superBlock.Length; j++)
        {
            sigma2 += superBlock[j] * superBlock[j];
        }
        sigma2 *= 2f / superBlock.Length;
        for (int j = 0; j < 32; j++)
        {
            weights[j] = importance[j] * MathF.Sqrt(sigma2 + xb[j] * xb[j]);
        }
    }

    /// <summary>Per group of 32 codes: byte j holds code j (low nibble) and code j + 16 (high nibble).</summary>
    private static void PackNibbles(ReadOnlySpan<byte> codes, byte* qs, int groups)
    {
        for (int g = 0; g < groups; g++)
        {
            for (int j = 0; j < 16; j++)
            {
                qs[16 * g + j] = (byte)(codes[32 * g + j] | (codes[32 * g + 16 + j] << 4));
            }
        }
    }
}
