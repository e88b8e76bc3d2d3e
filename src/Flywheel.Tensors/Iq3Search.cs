namespace Flywheel.Tensors;

/// <summary>
/// Search tables for quantizing to IQ3_XXS (256-point grid) and IQ3_S (512-point grid), built the way ggml-quants.c
/// <c>iq3xs_init_impl</c> builds them: each grid point as 4 odd levels 2l + 1; a map from every 4 x 3-bit level
/// combination to its grid index; and, for combinations off the grid, the grid points at the 2 (IQ3_XXS) or 3
/// (IQ3_S) smallest squared distances, ordered by (distance, index). Built once on first use; thread-safe.
/// </summary>
internal sealed class Iq3Search
{
    private static readonly Lazy<Iq3Search> Xxs = new(() => new Iq3Search(IqGrids.Iq3XxsCodes, neighbourDistances: 2));
    private static readonly Lazy<Iq3Search> S = new(() => new Iq3Search(IqGrids.Iq3SCodes, neighbourDistances: 3));

    public static Iq3Search ForXxs => Xxs.Value;

    public static Iq3Search ForS => S.Value;

    /// <summary>Grid point g as its 4 odd levels, at [4g .. 4g + 3].</summary>
    public readonly sbyte[] Points;

    /// <summary>For a 12-bit level combination: its grid index, or -1 when it is not on the grid.</summary>
    public readonly int[] Map;

    /// <summary>For a combination off the grid: the candidate grid indices to try, in ggml's order.</summary>
    public readonly int[]?[] Neighbours;

    private Iq3Search(ReadOnlySpan<ushort> codes, int neighbourDistances)
    {
        int size = codes.Length;
        Points = new sbyte[size * 4];
        Map = new int[4096];
        Neighbours = new int[]?[4096];
        Array.Fill(Map, -1);
        for (int g = 0; g < size; g++)
        {
            for (int i = 0; i < 4; i++)
            {
                Points[4 * g + i] = (sbyte)(2 * ((codes[g] >> (3 * i)) & 7) + 1);
            }
            Map[codes[g]] = g;
        }

        var order = new (int Distance, int Index)[size];
        for (int u = 0; u < 4096; u++)
        {
            if (Map[u] >= 0)
            {
                continue;
            }
            for (int g = 0; g < size; g++)
            {
                int d2 = 0;
                for (int i = 0; i < 4; i++)
                {
                    int diff = Points[4 * g + i] - (2 * ((u >> (3 * i)) & 7) + 1);
                    d2 += diff * diff;
                }
                order[g] = (d2, g);
            }
            Array.Sort(order);

            // Keep every point whose distance is among the smallest `neighbourDistances` distinct distances.
            int count = 0;
            int distance = order[0].Distance;
            int distinct = 1;
            for (int j = 0; j < size; j++)
            {
                if (order[j].Distance > distance)
                {
                    if (distinct == neighbourDistances)
                    {
                        break;
                    }
                    distance = order[j].Distance;
                    distinct++;
                }
                count++;
            }
            var list = new int[count];
            for (int j = 0; j < count; j++)
            {
                list[j] = order[j].Index;
            }
            Neighbours[u] = list;
        }
    }

    /// <summary>
    /// ggml-quants.c <c>iq3_find_best_neighbour</c>: among the neighbours of off-grid combination
    /// <paramref name="u"/>, the point with the least weighted squared error at <paramref name="scale"/> (first on
    /// ties); writes its levels into <paramref name="levels"/> and returns its index.
    /// </summary>
    public int BestNeighbour(int u, ReadOnlySpan<float> xval, ReadOnlySpan<float> weight, float scale, Span<sbyte> levels)
    {
        int[] candidates = Neighbours[u]!;
        float bestD2 = float.MaxValue;
        int best = -1;
        foreach (int g in candidates)
        {
            float d2 = 0;
            for (int i = 0; i < 4; i++)
            {
                float q = Points[4 * g + i];
                float diff = scale * q - xval[i];
                d2 += weight[i] * diff * diff;
            }
            if (d2 < bestD2)
            {
                bestD2 = d2;
                best = g;
            }
        }
        if (best < 0)
        {
            throw new InvalidOperationException("no IQ3 grid neighbour with a finite error");
        }
        for (int i = 0; i < 4; i++)
        {
            levels[i] = (sbyte)((Points[4 * best + i] - 1) / 2);
        }
        return best;
    }
}
