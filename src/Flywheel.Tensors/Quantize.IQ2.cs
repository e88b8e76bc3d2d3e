namespace Flywheel.Tensors;

// IQ2_XXS, IQ2_XS and IQ2_S, per quantize_row_iq2_xxs_impl / _iq2_xs_impl / _iq2_s_impl in ggml-quants.c.
// Magnitudes of 8 values at a time are snapped to points of a 2-bit lattice grid (IqGridSearch) over a range of
// scales; signs are stored separately (IQ2_XXS and IQ2_XS keep 7 and imply the eighth by even parity). ggml refuses
// IQ2_XXS and IQ2_XS without an importance matrix, and so do we (see NeedsImportance).
public static unsafe partial class Quantize
{
    /// <summary>ggml's GROUP_MAX_EPS_IQ2_S: an IQ2_S group whose magnitudes stay below this is empty.</summary>
    private const float Iq2SGroupEps = 1e-8f;

    /// <summary>
    /// True for the formats whose ggml quantizer requires an importance matrix (IQ2_XXS, IQ2_XS): for them only
    /// <see cref="Row(GgmlType, ReadOnlySpan{float}, Span{byte}, ReadOnlySpan{float})"/> with weights works.
    /// </summary>
    public static bool NeedsImportance(GgmlType type) => type is GgmlType.IQ2_XXS or GgmlType.IQ2_XS;

    private static void ThrowNeedsImportance(GgmlType type) =>
        throw new ArgumentException($"{GgmlTypeInfo.Name(type)} can only be quantized with an importance matrix", "importance");

    /// <summary>IQ2_S (no importance matrix): 1024-point grid, explicit signs, 4-bit scales per 16 values.</summary>
    public static void IQ2_S(ReadOnlySpan<float> src, Span<BlockIQ2S> dst) => Iq2S(src, dst, default);

    private static void Iq2Xxs(ReadOnlySpan<float> src, Span<BlockIQ2XXS> dst, ReadOnlySpan<float> importance)
    {
        CheckLength(src, dst.Length, BlockIQ2XXS.Elements);
        if (importance.IsEmpty)
        {
            ThrowNeedsImportance(GgmlType.IQ2_XXS);
        }
        const int maxQ = 3;
        var search = IqGridSearch.Iq2Xxs;
        Span<float> scales = stackalloc float[8];
        Span<float> weight = stackalloc float[32];
        Span<float> waux = stackalloc float[32];
        Span<float> xval = stackalloc float[32];
        Span<sbyte> levels = stackalloc sbyte[32];
        Span<sbyte> trial = stackalloc sbyte[32];
        Span<byte> signs = stackalloc byte[4];
        Span<uint> words = stackalloc uint[16];
        for (int ibl = 0; ibl < dst.Length; ibl++)
        {
            ReadOnlySpan<float> x = src.Slice(256 * ibl, 256);
            float sigma2 = SuperBlockSumSquares(x) / 256;
            words.Clear();
            float maxScale = 0;
            for (int ib = 0; ib < 8; ib++)
            {
                ReadOnlySpan<float> xb = x.Slice(32 * ib, 32);
                ReadOnlySpan<float> qw = importance.Slice(256 * ibl + 32 * ib, 32);
                for (int i = 0; i < 32; i++)
                {
                    weight[i] = qw[i] * MathF.Sqrt(sigma2 + xb[i] * xb[i]);
                }
                for (int i = 0; i < 32; i++)
                {
                    waux[i] = MathF.Sqrt(weight[i]);
                }
                SplitSigns(xb, weight, xval, signs, 4, evenParity: true);
                float max = xval[0];
                for (int i = 1; i < 32; i++)
                {
                    max = CMax(max, xval[i]);
                }
                if (max < GroupMaxEps)
                {
                    scales[ib] = 0;
                    continue;
                }
                // Start from make_qp_quants' fit of the magnitudes (its codes only matter if nothing below wins).
                float scale = MakeQpQuants(32, maxQ + 1, xval, System.Runtime.InteropServices.MemoryMarshal.AsBytes(levels), weight);
                float effMax = scale * maxQ;
                if (effMax <= 0)
                {
                    scales[ib] = 0;
                    continue;
                }
                float best = 0;
                for (int step = -6; step <= 6; step++)
                {
                    float id = (2 * maxQ - 1 + step * 0.1f) / effMax;
                    float thisScale = 1 / id;
                    for (int k = 0; k < 4; k++)
                    {
                        SnapToGrid(search, id, thisScale, xval.Slice(8 * k, 8), waux.Slice(8 * k, 8), trial.Slice(8 * k, 8), maxQ);
                    }
                    if (WeightedFit(weight, xval, trial, 32, ref best, ref scale))
                    {
                        trial.CopyTo(levels);
                    }
                }
                if (scale > 0)
                {
                    float id = 1 / scale;
                    for (int k = 0; k < 4; k++)
                    {
                        int u = 0;
                        for (int i = 0; i < 8; i++)
                        {
                            int l = Math.Max(0, Math.Min(maxQ - 1, NearestInt(0.5f * (id * xval[8 * k + i] - 1))));
                            u |= l << (2 * i);
                        }
                        int index = search.Map[u];
                        if (index < 0)
                        {
                            index = search.BestNeighbour(u, xval.Slice(8 * k, 8), waux.Slice(8 * k, 8), scale, levels.Slice(8 * k, 8));
                        }
                        search.SetLevels(index, levels.Slice(8 * k, 8));
                    }
                    RefitScale(weight, xval, levels, 32, ref scale);
                }
                if (scale < 0)
                {
                    scale = -scale;
                    for (int k = 0; k < 4; k++)
                    {
                        signs[k] = (byte)(~signs[k] & 127);
                    }
                }
                for (int k = 0; k < 4; k++)
                {
                    int index = GridIndex(search, levels.Slice(8 * k, 8));
                    words[2 * ib] |= (uint)index << (8 * k);
                    words[2 * ib + 1] |= (uint)signs[k] << (7 * k);
                }
                scales[ib] = scale;
                maxScale = CMax(maxScale, scale);
            }

            BlockIQ2XXS y = default;
            if (maxScale != 0)
            {
                float d = maxScale / 31;
                y.D = Fp16.FromFloat(d);
                float id = 1 / d;
                for (int ib = 0; ib < 8; ib++)
                {
                    int l = Math.Max(0, Math.Min(15, NearestInt(0.5f * (id * scales[ib] - 1))));
                    words[2 * ib + 1] |= (uint)l << 28;
                }
                byte* qs = (byte*)y.Qs;
                for (int w = 0; w < 16; w++)
                {
                    WriteUInt32(qs + 4 * w, words[w]);
                }
            }
            dst[ibl] = y;
        }
    }

    private static void Iq2Xs(ReadOnlySpan<float> src, Span<BlockIQ2XS> dst, ReadOnlySpan<float> importance)
    {
        CheckLength(src, dst.Length, BlockIQ2XS.Elements);
        if (importance.IsEmpty)
        {
            ThrowNeedsImportance(GgmlType.IQ2_XS);
        }
        var search = IqGridSearch.Iq2Xs;
        Span<float> scales = stackalloc float[16];
        Span<float> scratch = stackalloc float[48];
        Span<sbyte> levels = stackalloc sbyte[16];
        Span<byte> signs = stackalloc byte[2];
        for (int ibl = 0; ibl < dst.Length; ibl++)
        {
            ReadOnlySpan<float> x = src.Slice(256 * ibl, 256);
            float sigma2 = SuperBlockSumSquares(x) / 256;
            BlockIQ2XS y = default;
            float maxScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                ReadOnlySpan<float> xb = x.Slice(16 * ib, 16);
                ReadOnlySpan<float> qw = importance.Slice(256 * ibl + 16 * ib, 16);
                Span<float> weight = scratch.Slice(0, 16);
                for (int i = 0; i < 16; i++)
                {
                    weight[i] = qw[i] * MathF.Sqrt(sigma2 + xb[i] * xb[i]);
                }
                float scale = FitIq2Group16(search, xb, scratch, levels, signs, GroupMaxEps, evenParity: true);
                if (float.IsNegativeInfinity(scale))
                {
                    scales[ib] = 0;
                    continue;
                }
                for (int k = 0; k < 2; k++)
                {
                    y.Qs[2 * ib + k] = (ushort)(GridIndex(search, levels.Slice(8 * k, 8)) | (signs[k] << 9));
                }
                scales[ib] = scale;
                maxScale = CMax(maxScale, scale);
            }
            if (maxScale == 0)
            {
                dst[ibl] = default;
                continue;
            }
            float d = maxScale / 31;
            y.D = Fp16.FromFloat(d);
            StoreScalePairs(scales, 1 / d, y.Scales);
            dst[ibl] = y;
        }
    }

    private static void Iq2S(ReadOnlySpan<float> src, Span<BlockIQ2S> dst, ReadOnlySpan<float> importance)
    {
        CheckLength(src, dst.Length, BlockIQ2S.Elements);
        var search = IqGridSearch.Iq2S;
        Span<float> scales = stackalloc float[16];
        Span<float> scratch = stackalloc float[48];
        Span<sbyte> levels = stackalloc sbyte[16];
        Span<byte> signs = stackalloc byte[2];
        for (int ibl = 0; ibl < dst.Length; ibl++)
        {
            ReadOnlySpan<float> x = src.Slice(256 * ibl, 256);
            float sigma2 = 2 * SuperBlockSumSquares(x) / 256;
            BlockIQ2S y = default;
            float maxScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                ReadOnlySpan<float> xb = x.Slice(16 * ib, 16);
                Span<float> weight = scratch.Slice(0, 16);
                for (int i = 0; i < 16; i++)
                {
                    weight[i] = importance.IsEmpty
                        ? 0.25f * sigma2 + xb[i] * xb[i]
                        : importance[256 * ibl + 16 * ib + i] * MathF.Sqrt(sigma2 + xb[i] * xb[i]);
                }
                float scale = FitIq2Group16(search, xb, scratch, levels, signs, Iq2SGroupEps, evenParity: false);
                if (float.IsNegativeInfinity(scale))
                {
                    scales[ib] = 0;
                    continue;
                }
                for (int k = 0; k < 2; k++)
                {
                    int index = GridIndex(search, levels.Slice(8 * k, 8));
                    int i8 = 2 * ib + k;
                    y.Qs[i8] = (byte)index;
                    y.Qh[i8 / 4] |= (byte)((index >> 8) << (2 * (i8 % 4)));
                    y.Qs[32 + i8] = signs[k];
                }
                scales[ib] = scale;
                maxScale = CMax(maxScale, scale);
            }
            if (maxScale != 0)
            {
                float d = maxScale / 31;
                y.D = Fp16.FromFloat(d * 0.9875f); // ggml's fudge factor
                StoreScalePairs(scales, 1 / d, y.Scales);
            }
            dst[ibl] = y;
        }
    }

    /// <summary>
    /// The 16-value group search of IQ2_XS and IQ2_S. <paramref name="scratch"/> holds the weights in [0, 16) on
    /// entry. Returns the group scale with <paramref name="levels"/> (two on-grid points) and
    /// <paramref name="signs"/> set, or negative infinity for an empty group.
    /// </summary>
    private static float FitIq2Group16(IqGridSearch search, ReadOnlySpan<float> xb, Span<float> scratch, Span<sbyte> levels,
        Span<byte> signs, float groupEps, bool evenParity)
    {
        const int maxQ = 3;
        Span<float> weight = scratch.Slice(0, 16);
        Span<float> waux = scratch.Slice(16, 16);
        Span<float> xval = scratch.Slice(32, 16);
        Span<sbyte> trial = stackalloc sbyte[16];
        Span<bool> onGrid = stackalloc bool[2];
        Span<bool> onGridTrial = stackalloc bool[2];
        for (int i = 0; i < 16; i++)
        {
            waux[i] = MathF.Sqrt(weight[i]);
        }
        SplitSigns(xb, weight, xval, signs, 2, evenParity);
        float max = xval[0];
        for (int i = 1; i < 16; i++)
        {
            max = CMax(max, xval[i]);
        }
        levels.Clear();
        if (max < groupEps)
        {
            return float.NegativeInfinity;
        }

        float best = 0;
        float scale = max / (2 * maxQ - 1);
        onGrid.Fill(true);
        for (int step = -9; step <= 9; step++)
        {
            float id = (2 * maxQ - 1 + step * 0.1f) / max;
            float thisScale = 1 / id;
            for (int k = 0; k < 2; k++)
            {
                onGridTrial[k] = SnapToGrid(search, id, thisScale, xval.Slice(8 * k, 8), waux.Slice(8 * k, 8), trial.Slice(8 * k, 8), maxQ);
            }
            if (WeightedFit(weight, xval, trial, 16, ref best, ref scale))
            {
                trial.CopyTo(levels);
                onGridTrial.CopyTo(onGrid);
            }
        }
        if ((!onGrid[0] || !onGrid[1]) && scale > 0)
        {
            float id = 1 / scale;
            for (int k = 0; k < 2; k++)
            {
                if (onGrid[k])
                {
                    continue;
                }
                int u = 0;
                for (int i = 0; i < 8; i++)
                {
                    int l = Math.Max(0, Math.Min(maxQ - 1, NearestInt(0.5f * (id * xval[8 * k + i] - 1))));
                    u |= l << (2 * i);
                    levels[8 * k + i] = (sbyte)l;
                }
                if (search.Map[u] < 0)
                {
                    search.BestNeighbour(u, xval.Slice(8 * k, 8), waux.Slice(8 * k, 8), scale, levels.Slice(8 * k, 8));
                }
            }
            RefitScale(weight, xval, levels, 16, ref scale);
        }
        if (scale < 0)
        {
            scale = -scale;
            for (int k = 0; k < 2; k++)
            {
                signs[k] = (byte)(evenParity ? ~signs[k] & 127 : ~signs[k]);
            }
        }
        return scale;
    }

    /// <summary>
    /// Magnitudes and sign bits per 8 values. With <paramref name="evenParity"/> (only 7 sign bits are stored), an
    /// odd number of negatives is fixed by flipping the value whose weighted square is smallest; its magnitude then
    /// goes negative, exactly as in ggml.
    /// </summary>
    private static void SplitSigns(ReadOnlySpan<float> xb, ReadOnlySpan<float> weight, Span<float> xval, Span<byte> signs, int groups, bool evenParity)
    {
        for (int k = 0; k < groups; k++)
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
            if (evenParity && flips % 2 != 0)
            {
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
            signs[k] = (byte)(evenParity ? s & 127 : s);
        }
    }

    /// <summary>Rounds 8 magnitudes to level indices at inverse scale id; off the grid, takes the best neighbour.</summary>
    private static bool SnapToGrid(IqGridSearch search, float id, float scale, ReadOnlySpan<float> xval, ReadOnlySpan<float> waux,
        Span<sbyte> levels, int maxQ)
    {
        for (int i = 0; i < 8; i++)
        {
            int l = NearestInt(0.5f * (id * xval[i] - 1));
            levels[i] = (sbyte)Math.Max(0, Math.Min(maxQ - 1, l));
        }
        int u = search.Key(levels);
        if (search.Map[u] >= 0)
        {
            return true;
        }
        search.BestNeighbour(u, xval, waux, scale, levels);
        return false;
    }

    /// <summary>
    /// Least-squares scale of magnitudes against odd levels 2l + 1; when it beats <paramref name="best"/> (ggml's
    /// sumqx^2 / sumq2 criterion) updates best and scale and returns true.
    /// </summary>
    private static bool WeightedFit(ReadOnlySpan<float> weight, ReadOnlySpan<float> xval, ReadOnlySpan<sbyte> levels, int n,
        ref float best, ref float scale)
    {
        float sumqx = 0;
        float sumq2 = 0;
        for (int i = 0; i < n; i++)
        {
            float w = weight[i];
            float q = 2 * levels[i] + 1;
            sumqx += w * xval[i] * q;
            sumq2 += w * q * q;
        }
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2)
        {
            scale = sumqx / sumq2;
            best = scale * sumqx;
            return true;
        }
        return false;
    }

    /// <summary>Re-fits the scale to the final levels (ggml keeps the old scale when the weights sum to zero).</summary>
    private static void RefitScale(ReadOnlySpan<float> weight, ReadOnlySpan<float> xval, ReadOnlySpan<sbyte> levels, int n, ref float scale)
    {
        float sumqx = 0;
        float sumq2 = 0;
        for (int i = 0; i < n; i++)
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

    private static int GridIndex(IqGridSearch search, ReadOnlySpan<sbyte> levels)
    {
        int index = search.Map[search.Key(levels)];
        if (index < 0)
        {
            throw new InvalidOperationException("lattice search ended off the grid");
        }
        return index;
    }

    /// <summary>4-bit scale codes l = round((scale / d - 1) / 2), two per byte (even group low nibble).</summary>
    private static void StoreScalePairs(ReadOnlySpan<float> scales, float id, byte* packed)
    {
        for (int ib = 0; ib < scales.Length; ib++)
        {
            int l = Math.Max(0, Math.Min(15, NearestInt(0.5f * (id * scales[ib] - 1))));
            if (ib % 2 == 0)
            {
                packed[ib / 2] = (byte)l;
            }
            else
            {
                packed[ib / 2] |= (byte)(l << 4);
            }
        }
    }
}
