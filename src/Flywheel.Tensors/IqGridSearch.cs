namespace Flywheel.Tensors;

/// <summary>
/// Search tables for quantizing to the lattice-codebook formats, built the way ggml-quants.c <c>iq2xs_init_impl</c>
/// and <c>iq3xs_init_impl</c> build theirs (IQ1_S and IQ1_M use the IQ2 builder with their 2048-point grid): each grid point as odd levels 2l + 1; a map from every combination of
/// level indices (2 bits x 8 values for IQ2, 3 bits x 4 values for IQ3) to its grid index; and, for combinations
/// off the grid, the grid points at the few smallest squared distances, ordered by (distance, index).
/// Built once per format on first use; immutable and thread-safe afterwards.
/// </summary>
internal sealed class IqGridSearch
{
    private static readonly Lazy<IqGridSearch> Iq3XxsSearch = new(() => new(IqGridsCodes.Iq3Xxs, 4, 3, 4096, 2));
    private static readonly Lazy<IqGridSearch> Iq3SSearch = new(() => new(IqGridsCodes.Iq3S, 4, 3, 4096, 3));
    private static readonly Lazy<IqGridSearch> Iq2XxsSearch = new(() => new(IqGridsCodes.Iq2Xxs, 8, 2, 43692, 2));
    private static readonly Lazy<IqGridSearch> Iq2XsSearch = new(() => new(IqGridsCodes.Iq2Xs, 8, 2, 43692, 2));
    private static readonly Lazy<IqGridSearch> Iq2SSearch = new(() => new(IqGridsCodes.Iq2S, 8, 2, 43692, 1));
    private static readonly Lazy<IqGridSearch> Iq1Search = new(() => new(IqGridsCodes.Iq1S, 8, 2, 43692, 3));

    public static IqGridSearch Iq3Xxs => Iq3XxsSearch.Value;

    public static IqGridSearch Iq3S => Iq3SSearch.Value;

    public static IqGridSearch Iq2Xxs => Iq2XxsSearch.Value;

    public static IqGridSearch Iq2Xs => Iq2XsSearch.Value;

    public static IqGridSearch Iq2S => Iq2SSearch.Value;

    /// <summary>IQ1_S and IQ1_M share one grid; its level indices 0, 1, 2 stand for -1, 0, 1.</summary>
    public static IqGridSearch Iq1 => Iq1Search.Value;

    /// <summary>Values per grid point (8 for IQ2, 4 for IQ3).</summary>
    public readonly int Width;

    /// <summary>Bits per level index in a combination key.</summary>
    public readonly int Bits;

    /// <summary>Grid point g as its odd levels, at [Width * g .. Width * g + Width - 1].</summary>
    public readonly sbyte[] Points;

    /// <summary>For a combination key: its grid index, or -1 when it is not on the grid.</summary>
    public readonly int[] Map;

    /// <summary>For a combination off the grid: the candidate grid indices to try, in ggml's order.</summary>
    public readonly int[]?[] Neighbours;

    private IqGridSearch(ReadOnlySpan<ushort> codes, int width, int bits, int mapSize, int neighbourDistances)
    {
        Width = width;
        Bits = bits;
        int size = codes.Length;
        int mask = (1 << bits) - 1;
        Points = new sbyte[size * width];
        Map = new int[mapSize];
        Neighbours = new int[]?[mapSize];
        Array.Fill(Map, -1);
        for (int g = 0; g < size; g++)
        {
            for (int i = 0; i < width; i++)
            {
                Points[width * g + i] = (sbyte)(2 * ((codes[g] >> (bits * i)) & mask) + 1);
            }
            Map[codes[g]] = g;
        }

        var distances = new int[size];
        Span<int> smallest = stackalloc int[neighbourDistances];
        for (int u = 0; u < mapSize; u++)
        {
            if (Map[u] >= 0)
            {
                continue;
            }
            for (int g = 0; g < size; g++)
            {
                int d2 = 0;
                for (int i = 0; i < width; i++)
                {
                    int diff = Points[width * g + i] - (2 * ((u >> (bits * i)) & mask) + 1);
                    d2 += diff * diff;
                }
                distances[g] = d2;
            }

            // ggml sorts (distance, index) pairs and keeps every point within the smallest `neighbourDistances`
            // distinct distances. Finding those distances and listing matching points by ascending distance, then
            // index, gives the same list without the sort.
            int found = 0;
            for (int k = 0; k < neighbourDistances; k++)
            {
                int floor = k == 0 ? int.MinValue : smallest[k - 1];
                int next = int.MaxValue;
                foreach (int d2 in distances)
                {
                    if (d2 > floor && d2 < next)
                    {
                        next = d2;
                    }
                }
                if (next == int.MaxValue)
                {
                    break;
                }
                smallest[found++] = next;
            }
            int count = 0;
            foreach (int d2 in distances)
            {
                count += d2 <= smallest[found - 1] ? 1 : 0;
            }
            var list = new int[count];
            int at = 0;
            for (int k = 0; k < found; k++)
            {
                for (int g = 0; g < size; g++)
                {
                    if (distances[g] == smallest[k])
                    {
                        list[at++] = g;
                    }
                }
            }
            Neighbours[u] = list;
        }
    }

    /// <summary>Combination key of <paramref name="levels"/> (Width level indices).</summary>
    public int Key(ReadOnlySpan<sbyte> levels)
    {
        int u = 0;
        for (int i = 0; i < Width; i++)
        {
            u |= (levels[i] & ((1 << Bits) - 1)) << (Bits * i);
        }
        return u;
    }

    /// <summary>
    /// ggml-quants.c <c>iq2_find_best_neighbour</c> / <c>iq3_find_best_neighbour</c>: among the neighbours of
    /// off-grid key <paramref name="u"/>, the point with the least weighted squared error at <paramref name="scale"/>
    /// (first on ties); writes its level indices into <paramref name="levels"/> and returns its grid index.
    /// </summary>
    public int BestNeighbour(int u, ReadOnlySpan<float> xval, ReadOnlySpan<float> weight, float scale, Span<sbyte> levels)
    {
        int[] candidates = Neighbours[u]!;
        float bestD2 = float.MaxValue;
        int best = -1;
        foreach (int g in candidates)
        {
            float d2 = 0;
            for (int i = 0; i < Width; i++)
            {
                float q = Points[Width * g + i];
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
            // ggml asserts here; it happens only when every error is NaN or infinite (|x| near float's limit).
            throw new InvalidOperationException("no grid neighbour with a finite error");
        }
        SetLevels(best, levels);
        return best;
    }

    /// <summary>Writes the level indices (l, not 2l + 1) of grid point <paramref name="g"/>.</summary>
    public void SetLevels(int g, Span<sbyte> levels)
    {
        for (int i = 0; i < Width; i++)
        {
            levels[i] = (sbyte)((Points[Width * g + i] - 1) / 2);
        }
    }
}
