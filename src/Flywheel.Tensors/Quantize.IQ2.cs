using System.Runtime.InteropServices;

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
    /// True for the formats whose ggml quantizer requires an importance matrix (IQ2_XXS, IQ2_XS, IQ1_S): for them only
    /// <see cref="Row(GgmlType, ReadOnlySpan{float}, Span{byte}, ReadOnlySpan{float})"/> with weights works.
    /// </summary>
    public static bool NeedsImportance(GgmlType type) => type is GgmlType.IQ2_XXS or GgmlType.IQ2_XS or GgmlType.IQ1_S;

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
                float scale = MakeQpQuants(32, maxQ + 1, xval, MemoryMarshal.AsBytes(levels), weight);
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
}
