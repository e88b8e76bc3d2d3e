namespace Flywheel.Tensors;

// IQ1_S and IQ1_M, per quantize_row_iq1_s_impl / quantize_row_iq1_m_impl in ggml-quants.c. Each group takes
// values in {-1, 0, 1} shifted by +-IQ1S_DELTA; the best split of the sorted values into those three levels is
// found exhaustively from prefix sums, then each 8 values are snapped to the 2048-point grid. ggml requires an
// importance matrix for IQ1_S (so do we); IQ1_M also works without one.
public static unsafe partial class Quantize
{
    /// <summary>ggml's GROUP_MAX_EPS_IQ1_S and GROUP_MAX_EPS_IQ1_M.</summary>
    private const float Iq1SGroupEps = 1e-12f;
    private const float Iq1MGroupEps = 1e-7f;

    /// <summary>Levels -1, 0, 1 shifted up (x_p) or down (x_m) by ggml's IQ1S_DELTA = IQ1M_DELTA = 0.125.</summary>
    private static ReadOnlySpan<float> Iq1Up => [-1 + 0.125f, 0.125f, 1 + 0.125f];

    private static ReadOnlySpan<float> Iq1Down => [-1 - 0.125f, -0.125f, 1 - 0.125f];

    /// <summary>IQ1_M without an importance matrix (weights x^2).</summary>
    public static void IQ1_M(ReadOnlySpan<float> src, Span<BlockIQ1M> dst) => Iq1M(src, dst, default);

    private static void Iq1S(ReadOnlySpan<float> src, Span<BlockIQ1S> dst, ReadOnlySpan<float> importance)
    {
        CheckLength(src, dst.Length, BlockIQ1S.Elements);
        if (importance.IsEmpty)
        {
            ThrowNeedsImportance(GgmlType.IQ1_S);
        }
        var search = IqGridSearch.Iq1;
        Span<float> scales = stackalloc float[8];
        Span<int> shifts = stackalloc int[8];
        Span<float> weight = stackalloc float[32];
        Span<float> sumx = stackalloc float[33];
        Span<float> sumw = stackalloc float[33];
        Span<float> sortKeys = stackalloc float[32];
        Span<int> order = stackalloc int[32];
        Span<float> sortTmp = stackalloc float[32];
        Span<int> orderTmp = stackalloc int[32];
        Span<sbyte> levels = stackalloc sbyte[32];
        Span<int> index = stackalloc int[4];
        for (int ibl = 0; ibl < dst.Length; ibl++)
        {
            ReadOnlySpan<float> x = src.Slice(256 * ibl, 256);
            float sigma2 = 2 * SuperBlockSumSquares(x) / 256;
            BlockIQ1S y = default;
            float maxScale = 0;
            for (int ib = 0; ib < 8; ib++)
            {
                ReadOnlySpan<float> xb = x.Slice(32 * ib, 32);
                ReadOnlySpan<float> qw = importance.Slice(256 * ibl + 32 * ib, 32);
                for (int i = 0; i < 32; i++)
                {
                    weight[i] = qw[i] * MathF.Sqrt(sigma2 + xb[i] * xb[i]);
                }
                float max = MathF.Abs(xb[0]);
                for (int i = 1; i < 32; i++)
                {
                    max = CMax(max, MathF.Abs(xb[i]));
                }
                if (max < Iq1SGroupEps)
                {
                    scales[ib] = 0;
                    shifts[ib] = 1;
                    continue;
                }
                SortForSplit(xb, sortKeys, order, sortTmp, orderTmp);
                sumx[0] = 0;
                sumw[0] = 0;
                for (int j = 0; j < 32; j++)
                {
                    int i = order[j];
                    sumx[j + 1] = sumx[j] + weight[i] * xb[i];
                    sumw[j + 1] = sumw[j] + weight[i];
                }
                float bestScore = -float.MaxValue;
                float scale = max;
                int best1 = -1;
                int best2 = -1;
                int bestShift = 0;
                ReadOnlySpan<float> up = Iq1Up;
                ReadOnlySpan<float> down = Iq1Down;
                for (int i1 = 0; i1 <= 32; i1++)
                {
                    for (int i2 = i1; i2 <= 32; i2++)
                    {
                        float sumqx = (sumx[i1] - sumx[0]) * up[0] + (sumx[i2] - sumx[i1]) * up[1] + (sumx[32] - sumx[i2]) * up[2];
                        float sumq2 = (sumw[i1] - sumw[0]) * up[0] * up[0] + (sumw[i2] - sumw[i1]) * up[1] * up[1] + (sumw[32] - sumw[i2]) * up[2] * up[2];
                        if (sumq2 > 0 && sumqx * sumqx > bestScore * sumq2)
                        {
                            scale = sumqx / sumq2;
                            bestScore = scale * sumqx;
                            best1 = i1;
                            best2 = i2;
                            bestShift = 1;
                        }
                        sumqx = (sumx[i1] - sumx[0]) * down[0] + (sumx[i2] - sumx[i1]) * down[1] + (sumx[32] - sumx[i2]) * down[2];
                        sumq2 = (sumw[i1] - sumw[0]) * down[0] * down[0] + (sumw[i2] - sumw[i1]) * down[1] * down[1] + (sumw[32] - sumw[i2]) * down[2] * down[2];
                        if (sumq2 > 0 && sumqx * sumqx > bestScore * sumq2)
                        {
                            scale = sumqx / sumq2;
                            bestScore = scale * sumqx;
                            best1 = i1;
                            best2 = i2;
                            bestShift = -1;
                        }
                    }
                }
                if (best1 < 0 || best2 < 0 || bestShift == 0)
                {
                    scales[ib] = 0;
                    shifts[ib] = 1;
                    continue;
                }
                AssignSplit(order, best1, best2, levels, 32);
                if (scale < 0)
                {
                    for (int j = 0; j < 32; j++)
                    {
                        levels[j] = (sbyte)(2 - levels[j]);
                    }
                    scale = -scale;
                    bestShift = -bestShift;
                }
                ReadOnlySpan<float> xx = bestShift == 1 ? up : down;
                bool allOnGrid = true;
                for (int k = 0; k < 4; k++)
                {
                    index[k] = SnapIq1(search, xb.Slice(8 * k, 8), weight.Slice(8 * k, 8), scale, xx, levels.Slice(8 * k, 8), ref allOnGrid);
                }
                if (!allOnGrid)
                {
                    float sumqx = 0;
                    float sumq2 = 0;
                    for (int k = 0; k < 4; k++)
                    {
                        for (int j = 0; j < 8; j++)
                        {
                            float w = weight[8 * k + j];
                            float q = xx[(search.Points[8 * index[k] + j] - 1) / 2];
                            sumqx += w * q * xb[8 * k + j];
                            sumq2 += w * q * q;
                        }
                    }
                    if (sumqx > 0 && sumq2 > 0)
                    {
                        scale = sumqx / sumq2;
                    }
                }
                int h = 0;
                for (int k = 0; k < 4; k++)
                {
                    y.Qs[4 * ib + k] = (byte)index[k];
                    h |= (index[k] >> 8) << (3 * k);
                }
                y.Qh[ib] = (ushort)h;
                scales[ib] = scale;
                shifts[ib] = bestShift;
                maxScale = CMax(maxScale, scale);
            }
            if (maxScale != 0)
            {
                float d = maxScale / 15;
                y.D = Fp16.FromFloat(d * 1.125f); // ggml's fudge factor
                float id = 1 / d;
                for (int ib = 0; ib < 8; ib++)
                {
                    int l = Math.Max(0, Math.Min(7, NearestInt(0.5f * (id * scales[ib] - 1))));
                    if (shifts[ib] == -1)
                    {
                        l |= 8;
                    }
                    y.Qh[ib] |= (ushort)(l << 12);
                }
            }
            dst[ibl] = y;
        }
    }

    private static void Iq1M(ReadOnlySpan<float> src, Span<BlockIQ1M> dst, ReadOnlySpan<float> importance)
    {
        CheckLength(src, dst.Length, BlockIQ1M.Elements);
        var search = IqGridSearch.Iq1;
        ReadOnlySpan<float> up = Iq1Up;
        ReadOnlySpan<float> down = Iq1Down;
        ReadOnlySpan<byte> masks = [0x00, 0x80, 0x08, 0x88];
        Span<float> scales = stackalloc float[16];
        Span<int> shifts = stackalloc int[16];
        Span<float> weight = stackalloc float[16];
        Span<float> sortKeys = stackalloc float[16];
        Span<int> order = stackalloc int[16];
        Span<float> sortTmp = stackalloc float[16];
        Span<int> orderTmp = stackalloc int[16];
        Span<sbyte> levels = stackalloc sbyte[16];
        Span<int> index = stackalloc int[2];
        Span<float> px = stackalloc float[2 * 17];
        Span<float> pw = stackalloc float[2 * 17];
        Span<float> sumqxs = stackalloc float[4];
        Span<float> sumq2s = stackalloc float[4];
        for (int ibl = 0; ibl < dst.Length; ibl++)
        {
            ReadOnlySpan<float> x = src.Slice(256 * ibl, 256);
            float sigma2 = 2 * SuperBlockSumSquares(x) / 256;
            BlockIQ1M y = default;
            float maxScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                ReadOnlySpan<float> xb = x.Slice(16 * ib, 16);
                Iq1MWeights(xb, importance.IsEmpty ? default : importance.Slice(256 * ibl + 16 * ib, 16), sigma2, weight);
                float max = MathF.Abs(xb[0]);
                for (int i = 1; i < 16; i++)
                {
                    max = CMax(max, MathF.Abs(xb[i]));
                }
                if (max < Iq1MGroupEps)
                {
                    scales[ib] = 0;
                    shifts[ib] = 0;
                    continue;
                }
                SortForSplit(xb, sortKeys, order, sortTmp, orderTmp);
                // Prefix sums per half of the group (each half of 8 may take the other shift direction):
                // px[h * 17 + j] sums weight * x over the first j sorted values that lie in half h.
                px[0] = px[17] = 0;
                pw[0] = pw[17] = 0;
                for (int j = 0; j < 16; j++)
                {
                    int i = order[j];
                    int h = i < 8 ? 0 : 1;
                    px[h * 17 + j + 1] = px[h * 17 + j] + weight[i] * xb[i];
                    px[(1 - h) * 17 + j + 1] = px[(1 - h) * 17 + j];
                    pw[h * 17 + j + 1] = pw[h * 17 + j] + weight[i];
                    pw[(1 - h) * 17 + j + 1] = pw[(1 - h) * 17 + j];
                }
                float txs0 = px[16], txs1 = px[17 + 16];
                float tws0 = pw[16], tws1 = pw[17 + 16];
                float p2 = up[2];
                float m2 = down[2];
                float cp1 = up[0] * up[0] - up[1] * up[1];
                float cp2 = up[1] * up[1] - up[2] * up[2];
                float cm1 = down[0] * down[0] - down[1] * down[1];
                float cm2 = down[1] * down[1] - down[2] * down[2];
                float bestScore = -float.MaxValue;
                float scale = max;
                int best1 = -1;
                int best2 = -1;
                int bestK = -1;
                for (int i1 = 0; i1 <= 16; i1++)
                {
                    for (int i2 = i1; i2 <= 16; i2++)
                    {
                        // Sums of q*x and q^2 for each half with shift up (p) or down (m): with level steps of 1,
                        // the three-group sums collapse to total * top level minus the two prefix sums.
                        float sx0 = px[i1] + px[i2];
                        float sx1 = px[17 + i1] + px[17 + i2];
                        float qxp0 = txs0 * p2 - sx0, qxm0 = txs0 * m2 - sx0;
                        float qxp1 = txs1 * p2 - sx1, qxm1 = txs1 * m2 - sx1;
                        float q2p0 = tws0 * p2 * p2 + pw[i1] * cp1 + pw[i2] * cp2;
                        float q2m0 = tws0 * m2 * m2 + pw[i1] * cm1 + pw[i2] * cm2;
                        float q2p1 = tws1 * p2 * p2 + pw[17 + i1] * cp1 + pw[17 + i2] * cp2;
                        float q2m1 = tws1 * m2 * m2 + pw[17 + i1] * cm1 + pw[17 + i2] * cm2;
                        sumqxs[0] = qxp0 + qxp1;
                        sumqxs[1] = qxp0 + qxm1;
                        sumqxs[2] = qxm0 + qxp1;
                        sumqxs[3] = qxm0 + qxm1;
                        sumq2s[0] = q2p0 + q2p1;
                        sumq2s[1] = q2p0 + q2m1;
                        sumq2s[2] = q2m0 + q2p1;
                        sumq2s[3] = q2m0 + q2m1;
                        for (int k = 0; k < 4; k++)
                        {
                            if (sumq2s[k] > 0 && sumqxs[k] * sumqxs[k] > bestScore * sumq2s[k])
                            {
                                scale = sumqxs[k] / sumq2s[k];
                                bestScore = scale * sumqxs[k];
                                best1 = i1;
                                best2 = i2;
                                bestK = k;
                            }
                        }
                    }
                }
                if (best1 < 0 || best2 < 0 || bestK < 0)
                {
                    scales[ib] = 0;
                    shifts[ib] = 0;
                    continue;
                }
                AssignSplit(order, best1, best2, levels, 16);
                if (scale < 0)
                {
                    for (int j = 0; j < 16; j++)
                    {
                        levels[j] = (sbyte)(2 - levels[j]);
                    }
                    scale = -scale;
                    bestK = 3 - bestK;
                }
                bool allOnGrid = true;
                for (int k = 0; k < 2; k++)
                {
                    ReadOnlySpan<float> xx = Iq1MShift(bestK, k) ? up : down;
                    index[k] = SnapIq1(search, xb.Slice(8 * k, 8), weight.Slice(8 * k, 8), scale, xx, levels.Slice(8 * k, 8), ref allOnGrid);
                }
                if (!allOnGrid)
                {
                    float sumqx = 0;
                    float sumq2 = 0;
                    for (int k = 0; k < 2; k++)
                    {
                        ReadOnlySpan<float> xx = Iq1MShift(bestK, k) ? up : down;
                        for (int j = 0; j < 8; j++)
                        {
                            float w = weight[8 * k + j];
                            float q = xx[(search.Points[8 * index[k] + j] - 1) / 2];
                            sumqx += w * q * xb[8 * k + j];
                            sumq2 += w * q * q;
                        }
                    }
                    if (sumqx > 0 && sumq2 > 0)
                    {
                        scale = sumqx / sumq2;
                    }
                }
                y.Qs[2 * ib] = (byte)index[0];
                y.Qs[2 * ib + 1] = (byte)index[1];
                y.Qh[ib] = (byte)((index[0] >> 8) | ((index[1] >> 8) << 4));
                scales[ib] = scale;
                shifts[ib] = bestK;
                maxScale = CMax(maxScale, scale);
            }
            if (maxScale == 0)
            {
                dst[ibl] = y;
                continue;
            }

            // 3-bit scales per 16 values; then the super-block scale is refitted to the final codes.
            ushort* sc = (ushort*)y.Scales;
            float d = maxScale / 15;
            float id = 1 / d;
            float sumqxAll = 0;
            float sumq2All = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                int l = Math.Max(0, Math.Min(7, NearestInt(0.5f * (id * scales[ib] - 1))));
                sc[ib / 4] |= (ushort)(l << (3 * (ib % 4)));
                y.Qh[ib] |= masks[shifts[ib]];
                ReadOnlySpan<float> xb = x.Slice(16 * ib, 16);
                Iq1MWeights(xb, importance.IsEmpty ? default : importance.Slice(256 * ibl + 16 * ib, 16), sigma2, weight);
                for (int k = 0; k < 2; k++)
                {
                    ReadOnlySpan<float> xx = Iq1MShift(shifts[ib], k) ? up : down;
                    int g = y.Qs[2 * ib + k] + ((y.Qh[ib] << (8 - 4 * k)) & 0x700);
                    for (int j = 0; j < 8; j++)
                    {
                        float w = weight[8 * k + j];
                        float q = xx[(search.Points[8 * g + j] - 1) / 2] * (2 * l + 1);
                        sumqxAll += w * q * xb[8 * k + j];
                        sumq2All += w * q * q;
                    }
                }
            }
            if (sumq2All > 0)
            {
                d = sumqxAll / sumq2All;
            }
            ushort half = Fp16.FromFloat(d * 1.1125f); // ggml's fudge factor
            // The half scale is spread over the top nibbles of the four scale words.
            sc[0] |= (ushort)((half & 0x000F) << 12);
            sc[1] |= (ushort)((half & 0x00F0) << 8);
            sc[2] |= (ushort)((half & 0x0F00) << 4);
            sc[3] |= (ushort)(half & 0xF000);
            dst[ibl] = y;
        }
    }

    /// <summary>IQ1_M shift pattern k: 0 = both halves up, 1 = first up, 2 = first down, 3 = both down.</summary>
    private static bool Iq1MShift(int pattern, int half) => half == 0 ? pattern < 2 : pattern % 2 == 0;

    private static void Iq1MWeights(ReadOnlySpan<float> xb, ReadOnlySpan<float> importance, float sigma2, Span<float> weight)
    {
        for (int i = 0; i < 16; i++)
        {
            weight[i] = importance.IsEmpty ? xb[i] * xb[i] : importance[i] * MathF.Sqrt(sigma2 + xb[i] * xb[i]);
        }
    }

    /// <summary>
    /// Orders the group's indices by value as ggml's qsort does on this platform: glibc 2.36 sorts arrays this small
    /// with its merge sort, so equal values (and NaNs, which compare equal to everything) keep their input order.
    /// The same top-down split and merge are used so even non-transitive comparisons come out identically.
    /// </summary>
    private static void SortForSplit(ReadOnlySpan<float> xb, Span<float> keys, Span<int> order, Span<float> keyTmp, Span<int> orderTmp)
    {
        for (int j = 0; j < xb.Length; j++)
        {
            keys[j] = xb[j];
            order[j] = j;
        }
        MergeSort(keys[..xb.Length], order[..xb.Length], keyTmp, orderTmp);
    }

    private static void MergeSort(Span<float> keys, Span<int> order, Span<float> keyTmp, Span<int> orderTmp)
    {
        int n = keys.Length;
        if (n <= 1)
        {
            return;
        }
        int n1 = n / 2;
        MergeSort(keys[..n1], order[..n1], keyTmp, orderTmp);
        MergeSort(keys[n1..], order[n1..], keyTmp, orderTmp);
        int a = 0;
        int b = n1;
        int t = 0;
        while (a < n1 && b < n)
        {
            // glibc msort takes from the left run when cmp(left, right) <= 0.
            float l = keys[a];
            float r = keys[b];
            int cmp = l < r ? -1 : l > r ? 1 : 0;
            if (cmp <= 0)
            {
                keyTmp[t] = l;
                orderTmp[t++] = order[a++];
            }
            else
            {
                keyTmp[t] = r;
                orderTmp[t++] = order[b++];
            }
        }
        while (a < n1)
        {
            keyTmp[t] = keys[a];
            orderTmp[t++] = order[a++];
        }
        // Whatever is left of the right run is already in place.
        keyTmp[..t].CopyTo(keys);
        orderTmp[..t].CopyTo(order);
    }

    /// <summary>Sorted positions [0, i1) get level 0, [i1, i2) level 1, the rest level 2.</summary>
    private static void AssignSplit(ReadOnlySpan<int> order, int i1, int i2, Span<sbyte> levels, int n)
    {
        for (int j = 0; j < n; j++)
        {
            levels[order[j]] = (sbyte)(j < i1 ? 0 : j < i2 ? 1 : 2);
        }
    }

    /// <summary>
    /// Grid index of 8 levels; off the grid, ggml-quants.c <c>iq1_find_best_neighbour2</c>: the neighbour with the
    /// least weighted squared error of scale * shifted level against x (first on ties), whose levels replace them.
    /// </summary>
    private static int SnapIq1(IqGridSearch search, ReadOnlySpan<float> xb, ReadOnlySpan<float> weight, float scale,
        ReadOnlySpan<float> shifted, Span<sbyte> levels, ref bool allOnGrid)
    {
        int u = search.Key(levels);
        int index = search.Map[u];
        if (index >= 0)
        {
            return index;
        }
        allOnGrid = false;
        float best = float.MaxValue;
        foreach (int g in search.Neighbours[u]!)
        {
            float d2 = 0;
            for (int i = 0; i < 8; i++)
            {
                float q = shifted[(search.Points[8 * g + i] - 1) / 2];
                float diff = scale * q - xb[i];
                d2 += weight[i] * diff * diff;
            }
            if (d2 < best)
            {
                best = d2;
                index = g;
            }
        }
        if (index < 0)
        {
            throw new InvalidOperationException("no IQ1 grid neighbour with a finite error");
        }
        search.SetLevels(index, levels);
        return index;
    }
}
