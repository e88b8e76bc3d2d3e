using Flywheel.Engine.Sampling;

namespace Flywheel.Engine.Tests;

public sealed class SamplerTests
{
    // Probabilities 0.5, 0.3, 0.15, 0.05 as logits.
    private static readonly float[] Logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.15f), MathF.Log(0.05f)];

    private static HashSet<int> Support(SamplingOptions options, float[]? logits = null, int draws = 4000)
    {
        var sampler = new Sampler((logits ?? Logits).Length, options with { Seed = 42 });
        var seen = new HashSet<int>();
        for (var i = 0; i < draws; i++) seen.Add(sampler.Sample(logits ?? Logits, []));
        return seen;
    }

    [Fact]
    public void Greedy_takes_the_highest_logit()
    {
        var sampler = new Sampler(4, SamplingOptions.Greedy);
        Assert.Equal(2, sampler.Sample([0.1f, -3f, 2.5f, 2.4f], []));
    }

    [Fact]
    public void Same_seed_gives_the_same_tokens_and_another_seed_differs()
    {
        var logits = Enumerable.Range(0, 1000).Select(i => MathF.Sin(i) * 3).ToArray();
        int[] Run(ulong seed)
        {
            var s = new Sampler(logits.Length, new SamplingOptions { Temperature = 0.9f, TopP = 0.95f, Seed = seed });
            return Enumerable.Range(0, 64).Select(_ => s.Sample(logits, [])).ToArray();
        }
        Assert.Equal(Run(7), Run(7));
        Assert.NotEqual(Run(7), Run(8));
    }

    [Fact]
    public void Draws_follow_the_distribution()
    {
        var sampler = new Sampler(4, new SamplingOptions { Seed = 1 });
        var counts = new int[4];
        const int n = 40000;
        for (var i = 0; i < n; i++) counts[sampler.Sample(Logits, [])]++;
        float[] expected = [0.5f, 0.3f, 0.15f, 0.05f];
        for (var i = 0; i < 4; i++) Assert.Equal(expected[i], counts[i] / (float)n, 0.01f);
    }

    [Fact]
    public void Top_k_keeps_the_k_most_likely() => Assert.Equal([0, 1], Support(new SamplingOptions { TopK = 2 }).Order());

    [Fact]
    public void Top_p_keeps_the_smallest_set_reaching_p()
    {
        Assert.Equal([0, 1], Support(new SamplingOptions { TopP = 0.75f }).Order());
        Assert.Equal([0], Support(new SamplingOptions { TopP = 0.4f }).Order());
    }

    [Fact]
    public void Min_p_drops_tokens_below_a_fraction_of_the_top()
    {
        // threshold 0.2 · 0.5 = 0.1: keeps 0.5, 0.3, 0.15
        Assert.Equal([0, 1, 2], Support(new SamplingOptions { MinP = 0.2f }).Order());
    }

    [Fact]
    public void Low_temperature_sharpens_high_temperature_flattens()
    {
        Assert.Equal([0], Support(new SamplingOptions { Temperature = 0.02f }).Order());
        Assert.Equal([0, 1, 2, 3], Support(new SamplingOptions { Temperature = 3f }).Order());
    }

    [Theory]
    [InlineData(1.2f, 0f, 0f)]   // 1.0 / 1.2 = 0.83 < 0.9
    [InlineData(1f, 0.2f, 0f)]   // 1.0 − 0.2 = 0.8
    [InlineData(1f, 0f, 0.1f)]   // 1.0 − 2 · 0.1 = 0.8 (seen twice)
    public void Penalties_demote_repeated_tokens(float repetition, float presence, float frequency)
    {
        var options = SamplingOptions.Greedy with { RepetitionPenalty = repetition, PresencePenalty = presence, FrequencyPenalty = frequency };
        var sampler = new Sampler(2, options);
        Assert.Equal(1, sampler.Sample([1.0f, 0.9f], [0, 0]));
        Assert.Equal(0, sampler.Sample([1.0f, 0.9f], [])); // counts do not leak between calls
    }

    [Fact]
    public void Repetition_penalty_multiplies_negative_logits()
    {
        var sampler = new Sampler(2, SamplingOptions.Greedy with { RepetitionPenalty = 2f });
        // −0.5 · 2 = −1.0 < −0.9
        Assert.Equal(1, sampler.Sample([-0.5f, -0.9f], [0]));
    }

    [Fact]
    public void Penalty_window_limits_the_history_looked_at()
    {
        var sampler = new Sampler(2, SamplingOptions.Greedy with { PresencePenalty = 1f, PenaltyWindow = 1 });
        Assert.Equal(0, sampler.Sample([1.0f, 0.9f], [0, 1])); // only token 1 is in the window
    }

    [Fact]
    public void Log_probs_of_the_chosen_token_and_the_top_n()
    {
        var sampler = new Sampler(4, SamplingOptions.Greedy with { TopLogProbs = 3 });
        var id = sampler.Sample(Logits, []);
        Assert.Equal(0, id);
        Assert.Equal(MathF.Log(0.5f), sampler.LastLogProb, 1e-5f);
        var top = sampler.TopLogProbs.ToArray();
        Assert.Equal([0, 1, 2], top.Select(t => t.Id));
        Assert.Equal(MathF.Log(0.3f), top[1].LogProb, 1e-5f);
        Assert.Equal(MathF.Log(0.15f), top[2].LogProb, 1e-5f);
    }

    [Fact]
    public void Log_probs_off_leave_the_draws_unchanged_and_report_nan_unless_top_n_is_asked()
    {
        var logits = Enumerable.Range(0, 1000).Select(i => MathF.Sin(i) * 3).ToArray();
        foreach (var options in new[] { SamplingOptions.Greedy, new SamplingOptions { TopP = 0.9f }, new SamplingOptions() })
        {
            var on = new Sampler(logits.Length, options with { Seed = 7 });
            var off = new Sampler(logits.Length, options with { Seed = 7, LogProbs = false });
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(on.Sample(logits, []), off.Sample(logits, []));
                Assert.True(float.IsFinite(on.LastLogProb));
                Assert.True(float.IsNaN(off.LastLogProb));
            }
        }
        var top = new Sampler(4, SamplingOptions.Greedy with { LogProbs = false, TopLogProbs = 2 });
        top.Sample(Logits, []);
        Assert.Equal(MathF.Log(0.5f), top.LastLogProb, 1e-5f);
        Assert.Equal([0, 1], top.TopLogProbs.ToArray().Select(t => t.Id));
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(4, new SamplingOptions { TopP = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(4, new SamplingOptions { MinP = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(4, new SamplingOptions { TopLogProbs = 21 }));
    }
}

public sealed class SamplerTopKTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(40)]
    public void Top_k_on_a_large_vocabulary_keeps_exactly_the_k_best(int k)
    {
        var r = new Random(3);
        var logits = Enumerable.Range(0, 5000).Select(_ => (float)r.NextDouble() * 4).ToArray();
        var best = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).Take(k).ToHashSet();
        var sampler = new Sampler(logits.Length, new SamplingOptions { TopK = k, Temperature = 100f, Seed = 9 });
        var seen = new HashSet<int>();
        for (var i = 0; i < 3000; i++) seen.Add(sampler.Sample(logits, []));
        Assert.Subset(best, seen);
        Assert.Equal(k, seen.Count); // at temperature 100 all k are near-uniform, so each shows up
    }
}

public sealed class SamplerRankingTests
{
    /// <summary>
    /// The spec of a draw: every candidate in order (probability descending, ties to the lower id), then top-k, top-p,
    /// min-p and the draw over the kept candidates in that order (in id order when none was cut). The sampler orders
    /// only the front it needs.
    /// </summary>
    private static int[] FullSortDraws(float[] logits, SamplingOptions o, int draws)
    {
        var random = new SplitMix64(o.Seed!.Value);
        var n = logits.Length;
        var invTemperature = 1f / o.Temperature;
        var probs = new float[n];
        var total = LogitMath.SumExp(logits, invTemperature, LogitMath.Max(logits) * invTemperature, probs);
        var order = Enumerable.Range(0, n).OrderByDescending(i => probs[i]).ThenBy(i => i).ToArray();
        var count = n;
        if (o.TopK > 0 && o.TopK < n)
        {
            count = o.TopK;
            total = 0;
            for (var i = 0; i < count; i++) total += probs[order[i]];
        }
        var truncated = count < n;
        if (o.TopP < 1f)
        {
            double cumulative = 0;
            for (var i = 0; i < count; i++)
            {
                cumulative += probs[order[i]] / total;
                if (cumulative >= o.TopP)
                {
                    truncated |= i + 1 < count;
                    count = i + 1;
                    break;
                }
            }
        }
        if (o.MinP > 0f)
        {
            var kept = 1;
            while (kept < count && probs[order[kept]] >= probs[order[0]] * o.MinP) kept++;
            truncated |= kept < count;
            count = kept;
        }
        if (!truncated)
        {
            // Nothing cut: the draw walks the ids in order.
            order = Enumerable.Range(0, n).ToArray();
        }
        var keptTotal = total;
        if (truncated)
        {
            keptTotal = 0;
            for (var i = 0; i < count; i++) keptTotal += probs[order[i]];
        }
        var result = new int[draws];
        for (var d = 0; d < draws; d++)
        {
            var u = random.NextDouble() * keptTotal;
            double acc = 0;
            result[d] = truncated ? order[count - 1] : LogitMath.IndexOfMax(probs);
            for (var i = 0; i < count; i++)
            {
                acc += probs[order[i]];
                if (u < acc)
                {
                    result[d] = order[i];
                    break;
                }
            }
        }
        return result;
    }

    public static TheoryData<string, float, int, float, float> Cases => new()
    {
        { "peaked", 0.8f, 0, 0.95f, 0f },
        { "peaked", 1f, 0, 1f, 0f },
        { "peaked", 1f, 50, 0.9f, 0f },
        { "peaked", 0.7f, 0, 1f, 0.05f },
        { "flat", 1f, 0, 0.999f, 0f },   // the nucleus is nearly the whole vocabulary: the ordered front grows to all of it
        { "flat", 1.3f, 0, 1f, 0f },
        { "flat", 1f, 3000, 0.5f, 0.5f },
        { "ties", 1f, 0, 0.9f, 0f },     // four distinct logits: ties are broken by id
        { "ties", 1f, 7, 1f, 0f },
        { "ties", 2f, 0, 1f, 0.9f },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Draws_equal_those_of_a_full_sort(string shape, float temperature, int topK, float topP, float minP)
    {
        var r = new Random(11);
        const int n = 20000;
        var logits = shape switch
        {
            "peaked" => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * r.NextDouble() * 25)).ToArray(),
            "flat" => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 0.1)).ToArray(),
            _ => Enumerable.Range(0, n).Select(_ => (float)r.Next(0, 4)).ToArray(),
        };
        var options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP, Seed = 5 };
        var sampler = new Sampler(n, options);
        const int draws = 300;
        // Same seed, one random number per draw: the sequences of draws must be equal.
        var actual = new int[draws];
        for (var d = 0; d < draws; d++) actual[d] = sampler.Sample(logits, []);
        Assert.Equal(FullSortDraws(logits, options, draws), actual);
    }
}
