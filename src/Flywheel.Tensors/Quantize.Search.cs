namespace Flywheel.Tensors;

// Shared searches of ggml-quants.c that pick codes and scales. Each keeps ggml's float operation order:
// products like w*x*l are evaluated as (w*x)*l, sums accumulate in index order, and nothing is fused.
public static partial class Quantize
{
    /// <summary>ggml's GROUP_MAX_EPS: a group whose largest magnitude is below this is treated as all zero.</summary>
    private const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// ggml-quants.c <c>nearest_int</c>: adding 1.5 * 2^23 makes the FPU round to nearest even and leaves the
    /// integer in the low mantissa bits. Valid for |f| &lt;= 2^22 - 1; outside that it returns the same garbage as C.
    /// </summary>
    private static int NearestInt(float f)
    {
        float v = f + 12582912f;
        int i = BitConverter.SingleToInt32Bits(v);
        return (i & 0x007FFFFF) - 0x00400000;
    }

    /// <summary>
    /// ggml-quants.c <c>make_qx_quants</c> for symmetric codes in [-nmax, nmax) stored biased by nmax in
    /// <paramref name="codes"/>. Weights are <paramref name="weights"/> or, when empty, x^2 (rmse_type 1, the only
    /// mode llama-quantize's reference paths use). Returns the fitted scale.
    /// </summary>
    private static float MakeQxQuants(int n, int nmax, ReadOnlySpan<float> x, Span<sbyte> codes, ReadOnlySpan<float> weights)
    {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }
        if (amax < GroupMaxEps)
        {
            codes[..n].Clear();
            return 0f;
        }

        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = NearestInt(iscale * x[i]);
            l = Math.Max(-nmax, Math.Min(nmax - 1, l));
            codes[i] = (sbyte)(l + nmax);
            float w = weights.IsEmpty ? x[i] * x[i] : weights[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0)
            {
                continue;
            }
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = NearestInt(iscale * x[i]);
                l = Math.Max(-nmax, Math.Min(nmax - 1, l));
                float w = weights.IsEmpty ? x[i] * x[i] : weights[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; i++)
                {
                    int l = NearestInt(iscale * x[i]);
                    codes[i] = (sbyte)(nmax + Math.Max(-nmax, Math.Min(nmax - 1, l)));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /// <summary>
    /// ggml-quants.c <c>make_q3_quants</c> with do_rmse: start from the max-based scale, then move single codes
    /// while that improves the x^2-weighted fit (at most 5 passes). Codes come back biased by nmax.
    /// </summary>
    private static float MakeQ3Quants(int n, int nmax, ReadOnlySpan<float> x, Span<sbyte> codes)
    {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }
        if (amax < GroupMaxEps)
        {
            codes[..n].Clear();
            return 0f;
        }

        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = NearestInt(iscale * x[i]);
            l = Math.Max(-nmax, Math.Min(nmax - 1, l));
            codes[i] = (sbyte)l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int pass = 0; pass < 5; pass++)
        {
            int changed = 0;
            for (int i = 0; i < n; i++)
            {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * codes[i];
                if (slx > 0)
                {
                    float sl2 = suml2 - w * codes[i] * codes[i];
                    int newL = NearestInt(x[i] * sl2 / slx);
                    newL = Math.Max(-nmax, Math.Min(nmax - 1, newL));
                    if (newL != codes[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            codes[i] = (sbyte)newL;
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
        for (int i = 0; i < n; i++)
        {
            codes[i] = (sbyte)(codes[i] + nmax);
        }
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /// <summary>
    /// ggml-quants.c <c>make_qkx2_quants</c>: fits codes in [0, nmax] with a scale and a non-positive offset by
    /// trying nstep + 1 scale candidates and solving weighted least squares for each. Returns the scale and sets
    /// <paramref name="negMin"/> to minus the offset (what the K formats store as "min").
    /// </summary>
    private static float MakeQkx2Quants(int n, int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights,
        Span<byte> codes, out float negMin, Span<byte> scratch, float rmin, float rdelta, int nstep, bool useMad) =>
        MakeQkxQuants(n, nmax, x, weights, codes, out negMin, scratch, rmin, rdelta, nstep, useMad, version3: false);

    /// <summary>
    /// ggml-quants.c <c>make_qkx3_quants</c> as the importance-matrix paths call it (weights always given): the
    /// same search as make_qkx2_quants, except that a group with max &lt;= min (not only ==) counts as empty.
    /// </summary>
    private static float MakeQkx3Quants(int n, int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights,
        Span<byte> codes, out float negMin, Span<byte> scratch, float rmin, float rdelta, int nstep, bool useMad) =>
        MakeQkxQuants(n, nmax, x, weights, codes, out negMin, scratch, rmin, rdelta, nstep, useMad, version3: true);

    private static float MakeQkxQuants(int n, int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights,
        Span<byte> codes, out float negMin, Span<byte> scratch, float rmin, float rdelta, int nstep, bool useMad, bool version3)
    {
        float min = x[0];
        float max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min)
            {
                min = x[i];
            }
            if (x[i] > max)
            {
                max = x[i];
            }
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0)
        {
            min = 0;
        }
        if (version3 ? max <= min : max == min)
        {
            codes[..n].Clear();
            negMin = -min;
            return 0f;
        }

        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            int l = NearestInt(iscale * (x[i] - min));
            codes[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            float diff = scale * codes[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        if (nstep < 1)
        {
            negMin = -min;
            return scale;
        }

        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l = NearestInt(iscale * (x[i] - min));
                l = Math.Max(0, Math.Min(nmax, l));
                scratch[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = thisScale * scratch[i] + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    error += weights[i] * diff;
                }
                if (error < bestError)
                {
                    scratch[..n].CopyTo(codes);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        negMin = -min;
        return scale;
    }

    /// <summary>
    /// ggml-quants.c <c>best_index_int8</c>: index of the entry of the sorted table nearest to x. Clamps to the ends,
    /// bisects, then compares the two float distances, so a tie (or distances equal after rounding) goes to the
    /// upper entry. Newer ggml compares 2x with the sum of the neighbours instead; that differs only within
    /// rounding of a midpoint, and we follow the version llama-quantize was built from.
    /// </summary>
    private static int BestIndex(ReadOnlySpan<sbyte> values, float x)
    {
        int n = values.Length;
        if (x <= values[0])
        {
            return 0;
        }
        if (x >= values[n - 1])
        {
            return n - 1;
        }
        int lower = 0;
        int upper = n - 1;
        while (upper - lower > 1)
        {
            int mid = (lower + upper) / 2;
            if (x < values[mid])
            {
                upper = mid;
            }
            else
            {
                lower = mid;
            }
        }
        return x - values[upper - 1] < values[upper] - x ? upper - 1 : upper;
    }
}
