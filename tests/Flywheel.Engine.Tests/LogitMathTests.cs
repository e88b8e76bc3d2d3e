using Flywheel.Engine.Sampling;

namespace Flywheel.Engine.Tests;

public sealed class LogitMathTests
{
    // Each exponential is within a few float ulps of the double-precision one; sums add in another order.
    private const double ExpRelativeTolerance = 1e-6;

    public static TheoryData<int> Lengths => [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 63, 100, 255, 769, 5125, 151936];

    private static float[] Values(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 40 - 20)).ToArray();
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Max_and_index_of_max_match_the_scalar_loops(int n)
    {
        var values = Values(n, n);
        Assert.Equal(LogitMath.MaxScalar(values), LogitMath.Max(values));
        Assert.Equal(LogitMath.IndexOfMaxScalar(values), LogitMath.IndexOfMax(values));
        // The maximum in the last (scalar tail) position and in the first.
        values[^1] = 100;
        Assert.Equal(n - 1, LogitMath.IndexOfMax(values));
        values[0] = 100;
        Assert.Equal(0, LogitMath.IndexOfMax(values));
    }

    [Fact]
    public void Index_of_max_takes_the_first_of_ties_and_skips_nan_and_infinities()
    {
        var values = new float[37];
        Array.Fill(values, float.NegativeInfinity);
        Assert.Equal(0, LogitMath.IndexOfMax(values));
        values[20] = 3;
        values[11] = 3;
        values[30] = 3;
        values[5] = float.NaN;
        Assert.Equal(LogitMath.IndexOfMaxScalar(values), LogitMath.IndexOfMax(values));
        Assert.Equal(11, LogitMath.IndexOfMax(values));
        values[0] = float.NaN; // the scalar rule keeps a NaN at index 0: nothing compares greater than it
        Assert.Equal(LogitMath.IndexOfMaxScalar(values), LogitMath.IndexOfMax(values));
        values[0] = -0f;
        values[11] = values[20] = values[30] = 0f;
        Assert.Equal(0, LogitMath.IndexOfMax(values));
        Assert.Throws<ArgumentException>(() => LogitMath.IndexOfMax([]));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Sum_exp_matches_the_scalar_loop(int n)
    {
        var values = Values(n, n + 1);
        var scale = 1 / 0.7f;
        var shift = LogitMath.Max(values) * scale;
        var expected = new float[n];
        var actual = new float[n];
        var expectedSum = LogitMath.SumExpScalar(values, scale, shift, expected);
        var actualSum = LogitMath.SumExp(values, scale, shift, actual);
        Assert.Equal(expectedSum, actualSum, expectedSum * ExpRelativeTolerance);
        for (var i = 0; i < n; i++) Assert.Equal(expected[i], actual[i], Math.Max(expected[i] * ExpRelativeTolerance, 1e-30));
        Assert.Equal(actualSum, LogitMath.SumExp(values, scale, shift, default)); // the sum alone is the same sum
        if (n > 1) Assert.Throws<ArgumentException>(() => LogitMath.SumExp(values, scale, shift, new float[n - 1]));
    }

    [Fact]
    public void Rank_keys_order_by_probability_descending_then_id()
    {
        ulong[] keys = [LogitMath.RankKey(0.5f, 3), LogitMath.RankKey(1f, 9), LogitMath.RankKey(0.5f, 1), LogitMath.RankKey(0f, 0)];
        Array.Sort(keys);
        Assert.Equal([9, 1, 3, 0], keys.Select(LogitMath.RankId));
        Assert.Equal([1f, 0.5f, 0.5f, 0f], keys.Select(LogitMath.RankProbability));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(999)]
    [InlineData(1000)]
    public void Select_smallest_moves_the_k_smallest_to_the_front(int k)
    {
        var r = new Random(k);
        var keys = Enumerable.Range(0, 1000).Select(_ => (ulong)r.Next(0, 300)).ToArray(); // many ties
        var expected = keys.Order().Take(k).ToArray();
        LogitMath.SelectSmallest(keys, k);
        Assert.Equal(expected, keys.Take(k).Order());
    }
}

public sealed class LogitMathExpTests
{
    // Measured worst case is 9.4e-8 relative over the range (float rounding alone is up to 6e-8).
    private const double ExpRelativeTolerance = 2e-7;

    [Fact]
    public void Exp_of_non_positive_values_matches_double_precision()
    {
        var worst = 0.0;
        for (var start = -87.2f; start <= 0; start += 0.01093f)
        {
            var x = new System.Numerics.Vector<float>(start);
            var actual = LogitMath.ExpNonPositive(x)[0];
            var expected = Math.Exp(start);
            worst = Math.Max(worst, Math.Abs(actual - expected) / expected);
        }
        Assert.InRange(worst, 0, ExpRelativeTolerance);
        Assert.Equal(1f, LogitMath.ExpNonPositive(System.Numerics.Vector<float>.Zero)[0]);
    }

    [Fact]
    public void Exp_underflows_to_zero_below_the_normal_floats_and_at_minus_infinity()
    {
        Assert.Equal(0f, LogitMath.ExpNonPositive(new System.Numerics.Vector<float>(float.NegativeInfinity))[0]);
        Assert.Equal(0f, LogitMath.ExpNonPositive(new System.Numerics.Vector<float>(-90f))[0]);
        Assert.Equal(0f, LogitMath.ExpNonPositive(new System.Numerics.Vector<float>(-1e30f))[0]);
    }
}
