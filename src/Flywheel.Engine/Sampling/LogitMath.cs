using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flywheel.Engine.Sampling;

/// <summary>
/// Whole-vocabulary passes of the sampler (max, first index of the max, shifted exponentials and their sum) over
/// <see cref="Vector{T}"/> lanes: a sequence samples every step from ~150k logits (Qwen2's vocabulary), and the
/// scalar loops cost as much as a tenth of a batched decode step. Each has a scalar twin that is its spec
/// (<c>*Scalar</c>), tested against it at awkward lengths.
/// </summary>
internal static class LogitMath
{
    /// <summary>Largest value; −∞ for an empty span. NaNs are skipped unless all are NaN (then the result is NaN or −∞).</summary>
    public static float Max(ReadOnlySpan<float> values)
    {
        var i = 0;
        var best = float.NegativeInfinity;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            ref var start = ref MemoryMarshal.GetReference(values);
            var acc = new Vector<float>(float.NegativeInfinity);
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = Vector.LoadUnsafe(ref start, (nuint)i);
                // Keep the lanes where v is greater: a NaN compares false and never replaces a number.
                acc = Vector.ConditionalSelect(Vector.GreaterThan(v, acc), v, acc);
            }
            for (var lane = 0; lane < Vector<float>.Count; lane++)
            {
                if (acc[lane] > best) best = acc[lane];
            }
        }
        for (; i < values.Length; i++)
        {
            if (values[i] > best) best = values[i];
        }
        return best;
    }

    public static float MaxScalar(ReadOnlySpan<float> values)
    {
        var best = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (v > best) best = v;
        }
        return best;
    }

    /// <summary>
    /// Index of the first largest value, exactly as <see cref="IndexOfMaxScalar"/> (ties to the lowest index; a NaN is
    /// never chosen over a number unless it stands at index 0). Throws on an empty span.
    /// </summary>
    public static int IndexOfMax(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) throw new ArgumentException("no values", nameof(values));
        // The scalar rule keeps index 0 when it is NaN (nothing compares greater than NaN); so does falling back to it.
        if (float.IsNaN(values[0])) return IndexOfMaxScalar(values);
        var max = Max(values);
        if (max == float.NegativeInfinity) return IndexOfMaxScalar(values); // all −∞ (or NaN): index 0
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            ref var start = ref MemoryMarshal.GetReference(values);
            var target = new Vector<float>(max);
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                if (Vector.EqualsAny(Vector.LoadUnsafe(ref start, (nuint)i), target)) break;
            }
        }
        for (; i < values.Length; i++)
        {
            if (values[i] == max) return i;
        }
        throw new UnreachableException();
    }

    public static int IndexOfMaxScalar(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best]) best = i;
        }
        return best;
    }

    /// <summary>
    /// Writes exp(values[i] · scale − shift) into <paramref name="output"/> (when it is not empty) and returns the sum
    /// of them in double. The shift must be at least the largest values[i] · scale (every exponent ≤ 0). Lanes are summed separately, so the sum differs from <see cref="SumExpScalar"/> by rounding
    /// only; each exponential is within a few float ulps of the scalar one.
    /// </summary>
    public static double SumExp(ReadOnlySpan<float> values, float scale, float shift, Span<float> output)
    {
        var write = !output.IsEmpty;
        if (write && output.Length < values.Length) throw new ArgumentException("output is shorter than values", nameof(output));
        var i = 0;
        double total = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            ref var start = ref MemoryMarshal.GetReference(values);
            ref var dest = ref MemoryMarshal.GetReference(output);
            var vScale = new Vector<float>(scale);
            var vShift = new Vector<float>(shift);
            var lo = Vector<double>.Zero;
            var hi = Vector<double>.Zero;
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var e = ExpNonPositive(Vector.LoadUnsafe(ref start, (nuint)i) * vScale - vShift);
                if (write) e.StoreUnsafe(ref dest, (nuint)i);
                Vector.Widen(e, out var a, out var b);
                lo += a;
                hi += b;
            }
            total = Vector.Sum(lo + hi);
        }
        for (; i < values.Length; i++)
        {
            var e = MathF.Exp(values[i] * scale - shift);
            if (write) output[i] = e;
            total += e;
        }
        return total;
    }

    /// <summary>
    /// e^x for x ≤ 0 (shifted logits), within about 2 float ulps: x = n·ln2 + r with |r| ≤ ln2/2 (ln 2 split in two
    /// parts so n·ln2 is exact, Cody and Waite), e^r from its Taylor polynomial to r^7 (error below 1e-8 relative), then
    /// 2^n added into the exponent bits. Below −87.3 (where e^x leaves the normal floats) the result is 0, as it is for
    /// −∞. .NET's Vector.Exp is as slow as the scalar loop here, and a sampler step runs this over the vocabulary twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> ExpNonPositive(Vector<float> x)
    {
        var underflow = Vector.LessThan(x, new Vector<float>(-87.3f));
        x = Vector.Max(x, new Vector<float>(-87.3f));
        var n = Vector.Round(x * new Vector<float>(1.44269504f));  // x / ln 2
        var r = x - n * new Vector<float>(0.693359375f);           // ln 2 rounded to 9 bits: n · this is exact
        r -= n * new Vector<float>(-2.12194440e-4f);               // ln 2 − 0.693359375
        var p = new Vector<float>(1f / 5040);
        p = p * r + new Vector<float>(1f / 720);
        p = p * r + new Vector<float>(1f / 120);
        p = p * r + new Vector<float>(1f / 24);
        p = p * r + new Vector<float>(1f / 6);
        p = p * r + new Vector<float>(0.5f);
        p = p * r + Vector<float>.One;
        p = p * r + Vector<float>.One;
        var scaled = Vector.AsVectorSingle(Vector.AsVectorInt32(p) + Vector.ShiftLeft(Vector.ConvertToInt32(n), 23));
        return Vector.ConditionalSelect(underflow, Vector<float>.Zero, scaled);
    }

    public static double SumExpScalar(ReadOnlySpan<float> values, float scale, float shift, Span<float> output)
    {
        double total = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var e = (float)Math.Exp(values[i] * scale - shift);
            if (!output.IsEmpty) output[i] = e;
            total += e;
        }
        return total;
    }

    /// <summary>
    /// A sort key that orders (probability descending, id ascending) as an unsigned integer ascending: the float bits
    /// of a non-negative probability grow with it, so their complement shrinks; the id breaks ties.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong RankKey(float probability, int id) =>
        ((ulong)~BitConverter.SingleToUInt32Bits(probability) << 32) | (uint)id;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RankProbability(ulong key) => BitConverter.UInt32BitsToSingle(~(uint)(key >> 32));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RankId(ulong key) => (int)(uint)key;

    /// <summary>Quickselect (Hoare partition): moves the <paramref name="k"/> smallest keys of <paramref name="keys"/> to its front, unordered.</summary>
    public static void SelectSmallest(Span<ulong> keys, int k)
    {
        int lo = 0, hi = keys.Length - 1;
        if (k <= 0 || k >= keys.Length) return;
        while (lo < hi)
        {
            var pivot = keys[lo + (hi - lo) / 2];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] < pivot) i++;
                while (keys[j] > pivot) j--;
                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    i++;
                    j--;
                }
            }
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else return;
        }
    }
}
