namespace Flywheel.Tensors;

// Steps shared by the IQ2 lattice quantizers (ggml-quants.c quantize_row_iq2_*_impl write them out inline).
public static unsafe partial class Quantize
{
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
