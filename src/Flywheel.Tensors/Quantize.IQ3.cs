namespace Flywheel.Tensors;

// IQ3_XXS and IQ3_S, per quantize_row_iq3_xxs_impl / quantize_row_iq3_s_impl in ggml-quants.c (what
// llama-quantize runs for these types, with or without an importance matrix). Each group of 32 is split into
// magnitudes and signs; magnitudes are searched as points of the 3-bit grid (IqGridSearch) over a range of scales,
// and the group scales are then stored as 4-bit codes against one half super-block scale. Values whose squares
// overflow float (|x| above about 1.8e19) leave no finite candidate: ggml aborts there, we throw
// InvalidOperationException.
public static unsafe partial class Quantize
{
    /// <summary>ggml's GROUP_MAX_EPS_IQ3_XXS: an IQ3_XXS group whose magnitudes stay below this is empty.</summary>
    private const float Iq3XxsGroupEps = 1e-8f;

    /// <summary>IQ3_XXS: 256-point grid, sign patterns of even parity, one 4-bit scale per group of 32.</summary>
    public static void IQ3_XXS(ReadOnlySpan<float> src, Span<BlockIQ3XXS> dst) => Iq3Xxs(src, dst, default);

    /// <summary>IQ3_S: 512-point grid, free signs, 4-bit scales for pairs of groups.</summary>
    public static void IQ3_S(ReadOnlySpan<float> src, Span<BlockIQ3S> dst) => Iq3S(src, dst, default);

    private static void Iq3Xxs(ReadOnlySpan<float> src, Span<BlockIQ3XXS> dst, ReadOnlySpan<float> importance)
    {
        CheckLength(src, dst.Length, BlockIQ3XXS.Elements);
        var search = IqGridSearch.Iq3Xxs;
        Span<float> scales = stackalloc float[8];
        Span<float> scratch = stackalloc float[96];
        Span<sbyte> levels = stackalloc sbyte[64];
        Span<byte> signs = stackalloc byte[4];
        for (int ibl = 0; ibl < dst.Length; ibl++)
        {
            ReadOnlySpan<float> x = src.Slice(256 * ibl, 256);
            float sigma2 = 2 * SuperBlockSumSquares(x) / 256;
            BlockIQ3XXS y = default;
            float maxScale = 0;
            for (int ib = 0; ib < 8; ib++)
            {
                ReadOnlySpan<float> qw = importance.IsEmpty ? default : importance.Slice(256 * ibl + 32 * ib, 32);
                float scale = FitIq3Group(search, x.Slice(32 * ib, 32), qw, sigma2, scratch, levels, signs, xxs: true);
                if (float.IsNegativeInfinity(scale))
                {
                    scales[ib] = 0; // empty group: indices, signs and scale code stay zero
                    continue;
                }
                for (int k = 0; k < 8; k++)
                {
                    y.Qs[8 * ib + k] = (byte)search.Map[search.Key(levels.Slice(4 * k, 4))];
                }
                uint packedSigns = (uint)(signs[0] | (signs[1] << 7) | (signs[2] << 14) | (signs[3] << 21));
                WriteUInt32(y.Qs + 64 + 4 * ib, packedSigns);
                scales[ib] = scale;
                maxScale = CMax(maxScale, scale);
            }
            if (maxScale == 0)
            {
                dst[ibl] = default;
                continue;
            }

            float d = maxScale / 31;
            y.D = Fp16.FromFloat(d * 1.0125f); // ggml's fudge factor
            float id = 1 / d;
            for (int ib = 0; ib < 8; ib++)
            {
                int l = Math.Max(0, Math.Min(15, NearestInt(0.5f * (id * scales[ib] - 1))));
                byte* word = y.Qs + 64 + 4 * ib;
                word[3] |= (byte)(l << 4); // bits 28..31 of the little-endian uint32
            }
            dst[ibl] = y;
        }
    }

    private static void Iq3S(ReadOnlySpan<float> src, Span<BlockIQ3S> dst, ReadOnlySpan<float> importance)
    {
        CheckLength(src, dst.Length, BlockIQ3S.Elements);
        var search = IqGridSearch.Iq3S;
        Span<float> scales = stackalloc float[8];
        Span<float> scratch = stackalloc float[96];
        Span<sbyte> levels = stackalloc sbyte[64];
        Span<byte> signs = stackalloc byte[4];
        for (int ibl = 0; ibl < dst.Length; ibl++)
        {
            ReadOnlySpan<float> x = src.Slice(256 * ibl, 256);
            float sigma2 = 2 * SuperBlockSumSquares(x) / 256;
            BlockIQ3S y = default;
            // ggml advances its index and sign cursors only past non-empty groups, so later groups' bytes move up
            // when a group is all zero (their high index bits in Qh stay at the group's own position). Kept as is.
            int qsAt = 0;
            int signsAt = 0;
            float maxScale = 0;
            for (int ib = 0; ib < 8; ib++)
            {
                ReadOnlySpan<float> qw = importance.IsEmpty ? default : importance.Slice(256 * ibl + 32 * ib, 32);
                float scale = FitIq3Group(search, x.Slice(32 * ib, 32), qw, sigma2, scratch, levels, signs, xxs: false);
                if (float.IsNegativeInfinity(scale))
                {
                    scales[ib] = 0;
                    continue;
                }
                for (int k = 0; k < 8; k++)
                {
                    int index = search.Map[search.Key(levels.Slice(4 * k, 4))];
                    y.Qs[qsAt + k] = (byte)index;
                    y.Qh[(8 * ib + k) / 8] |= (byte)((index >> 8) << ((8 * ib + k) % 8));
                }
                qsAt += 8;
                for (int k = 0; k < 4; k++)
                {
                    y.Signs[signsAt + k] = signs[k];
                }
                signsAt += 4;
                scales[ib] = scale;
                maxScale = CMax(maxScale, scale);
            }
            if (maxScale == 0)
            {
                dst[ibl] = y;
                continue;
            }

            float d = maxScale / 31;
            y.D = Fp16.FromFloat(d * 1.033f); // ggml's fudge factor
            float id = 1 / d;
            for (int ib = 0; ib < 8; ib += 2)
            {
                int l1 = Math.Max(0, Math.Min(15, NearestInt(0.5f * (id * scales[ib] - 1))));
                int l2 = Math.Max(0, Math.Min(15, NearestInt(0.5f * (id * scales[ib + 1] - 1))));
                y.Scales[ib / 2] = (byte)(l1 | (l2 << 4));
            }
            dst[ibl] = y;
        }
    }

    /// <summary>
    /// The per-group search shared by both IQ3 formats. Returns the group scale with <paramref name="levels"/>
    /// (8 grid points x 4 levels, all on the grid) and <paramref name="signs"/> (per 8 values) filled, or negative
    /// infinity for an empty group. The IQ3_XXS variant (<paramref name="xxs"/>) makes each sign pattern even by
    /// flipping the value that costs least, scans 31 scales instead of 19, and re-picks only off-grid points.
    /// </summary>
    private static float FitIq3Group(IqGridSearch search, ReadOnlySpan<float> xb, ReadOnlySpan<float> importance, float sigma2,
        Span<float> scratch, Span<sbyte> levels, Span<byte> signs, bool xxs)
    {
        const int maxQ = 8;
        Span<float> weight = scratch.Slice(0, 32);
        Span<float> waux = scratch.Slice(32, 32);
        Span<float> xval = scratch.Slice(64, 32);
        Span<sbyte> trial = stackalloc sbyte[32];
        Span<bool> onGrid = stackalloc bool[8];
        Span<bool> onGridTrial = stackalloc bool[8];

        for (int i = 0; i < 32; i++)
        {
            weight[i] = importance.IsEmpty ? xb[i] * xb[i] : importance[i] * MathF.Sqrt(sigma2 + xb[i] * xb[i]);
        }
        for (int i = 0; i < 32; i++)
        {
            waux[i] = MathF.Sqrt(weight[i]);
        }
        for (int k = 0; k < 4; k++)
        {
            int flips = 0;
            int s = 0;
            for (int i = 0; i < 8; i++)
            {
                if (xb[8 * k + i] >= 0)
                {
                    xval[8 * k + i] = xb[8 * k + i];
                }
                else
                {
                    xval[8 * k + i] = -xb[8 * k + i];
                    flips++;
                    s |= 1 << i;
                }
            }
            if (xxs && flips % 2 != 0)
            {
                // IQ3_XXS stores 7 sign bits; the eighth is implied by even parity, so give up the cheapest one.
                int imin = 0;
                float min = weight[8 * k] * xb[8 * k] * xb[8 * k];
                for (int i = 1; i < 8; i++)
                {
                    float ax = weight[8 * k + i] * xb[8 * k + i] * xb[8 * k + i];
                    if (ax < min)
                    {
                        min = ax;
                        imin = i;
                    }
                }
                xval[8 * k + imin] = -xval[8 * k + imin];
                s ^= 1 << imin;
            }
            signs[k] = (byte)(xxs ? s & 127 : s);
        }

        float max = xval[0];
        for (int i = 1; i < 32; i++)
        {
            max = CMax(max, xval[i]);
        }
        levels.Clear();
        if (xxs ? max < Iq3XxsGroupEps : max == 0)
        {
            return float.NegativeInfinity;
        }

        float best = 0;
        float scale = max / (2 * maxQ - 1);
        onGrid.Fill(xxs);
        int range = xxs ? 15 : 9;
        for (int step = -range; step <= range; step++)
        {
            float id = (2 * maxQ - 1 + step * 0.2f) / max;
            float thisScale = 1 / id;
            for (int k = 0; k < 8; k++)
            {
                for (int i = 0; i < 4; i++)
                {
                    int l = NearestInt(0.5f * (id * xval[4 * k + i] - 1));
                    trial[4 * k + i] = (sbyte)Math.Max(0, Math.Min(maxQ - 1, l));
                }
                int u = search.Key(trial.Slice(4 * k, 4));
                onGridTrial[k] = search.Map[u] >= 0;
                if (!onGridTrial[k])
                {
                    search.BestNeighbour(u, xval.Slice(4 * k, 4), waux.Slice(4 * k, 4), thisScale, trial.Slice(4 * k, 4));
                }
            }
            float sumqx = 0;
            float sumq2 = 0;
            for (int i = 0; i < 32; i++)
            {
                float w = weight[i];
                float q = 2 * trial[i] + 1;
                sumqx += w * xval[i] * q;
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2)
            {
                scale = sumqx / sumq2;
                best = scale * sumqx;
                trial.CopyTo(levels);
                onGridTrial.CopyTo(onGrid);
            }
        }

        int offGrid = 0;
        for (int k = 0; k < 8; k++)
        {
            offGrid += onGrid[k] ? 0 : 1;
        }
        if (offGrid > 0 && scale > 0)
        {
            float id = 1 / scale;
            for (int k = 0; k < 8; k++)
            {
                if (xxs && onGrid[k])
                {
                    continue;
                }
                int u = 0;
                for (int i = 0; i < 4; i++)
                {
                    int l = Math.Max(0, Math.Min(maxQ - 1, NearestInt(0.5f * (id * xval[4 * k + i] - 1))));
                    u |= l << (3 * i);
                }
                int index = search.Map[u];
                if (index < 0)
                {
                    index = search.BestNeighbour(u, xval.Slice(4 * k, 4), waux.Slice(4 * k, 4), scale, levels.Slice(4 * k, 4));
                }
                search.SetLevels(index, levels.Slice(4 * k, 4));
            }
            float sumqx = 0;
            float sumq2 = 0;
            for (int i = 0; i < 32; i++)
            {
                float w = weight[i];
                float q = 2 * levels[i] + 1;
                sumqx += w * xval[i] * q;
                sumq2 += w * q * q;
            }
            if (sumq2 > 0)
            {
                scale = sumqx / sumq2;
            }
        }
        if (scale < 0)
        {
            // ggml: "should never happen"; the scale is stored unsigned, so flip it and the signs.
            scale = -scale;
            for (int k = 0; k < 4; k++)
            {
                signs[k] = (byte)(xxs ? ~signs[k] & 127 : ~signs[k]);
            }
        }
        for (int k = 0; k < 8; k++)
        {
            if (search.Map[search.Key(levels.Slice(4 * k, 4))] < 0)
            {
                throw new InvalidOperationException("IQ3 search ended off the grid");
            }
        }
        return scale;
    }
}
