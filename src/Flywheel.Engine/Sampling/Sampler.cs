namespace Flywheel.Engine.Sampling;

/// <summary>
/// Chooses tokens from logits per <see cref="SamplingOptions"/>. Vocabulary-sized buffers are made on the first call
/// that needs them (greedy decoding without penalties needs none), so <see cref="Sample"/> does not allocate after
/// that. Holds the random state of one sequence: create one sampler per
/// sequence; not thread-safe.
/// </summary>
public sealed class Sampler
{
    public const int MaxTopLogProbs = 20;

    /// <summary>How many candidates a draw first puts in order; it takes 8 times as many each time it needs more.</summary>
    private const int FirstRanked = 64;

    // Vocabulary-sized buffers are made on first use: a greedy request without penalties needs none of them.
    private float[]? _work;       // [n_vocab] logits after penalties and the mask
    private float[]? _probs;      // [n_vocab] exp(logit / T − max)
    private ulong[]? _ranked;     // [n_vocab] RankKey(prob, id); the first _rankedCount are the most likely, in order
    private int[]? _counts;       // [n_vocab] occurrences in the penalty window
    private readonly TokenLogProb[] _top; // [TopLogProbs]
    private int _rankedCount;
    private int _topFilled;
    private SplitMix64 _random;

    public Sampler(int vocabSize, SamplingOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.TopLogProbs, MaxTopLogProbs);
        ArgumentOutOfRangeException.ThrowIfNegative(options.TopK);
        if (options.TopP is <= 0f or > 1f) throw new ArgumentOutOfRangeException(nameof(options), $"top_p {options.TopP} must be in (0, 1]");
        if (options.MinP is < 0f or > 1f) throw new ArgumentOutOfRangeException(nameof(options), $"min_p {options.MinP} must be in [0, 1]");
        if (options.RepetitionPenalty <= 0f) throw new ArgumentOutOfRangeException(nameof(options), "repetition penalty must be positive");
        VocabSize = vocabSize;
        Options = options;
        _top = new TokenLogProb[options.TopLogProbs];
        _random = new SplitMix64(options.Seed ?? (ulong)Random.Shared.NextInt64());
    }

    public int VocabSize { get; }
    public SamplingOptions Options { get; }

    /// <summary>Log-probability of the token last returned by <see cref="Sample"/> (raw model distribution); NaN when
    /// <see cref="SamplingOptions.LogProbs"/> is off and no top log-probabilities were asked for.</summary>
    public float LastLogProb { get; private set; }

    /// <summary>The <see cref="SamplingOptions.TopLogProbs"/> most likely tokens at the last step, best first; valid until the next call.</summary>
    public ReadOnlySpan<TokenLogProb> TopLogProbs => _top.AsSpan(0, _topFilled);

    private bool HasPenalties => Options is not { RepetitionPenalty: 1f, PresencePenalty: 0f, FrequencyPenalty: 0f };

    /// <summary>
    /// Chooses the next token. <paramref name="history"/> is the sequence so far (prompt and generated tokens), read
    /// for the penalties only.
    /// </summary>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> history) => Sample(logits, history, default);

    /// <summary>
    /// Chooses the next token among those whose bit is set in <paramref name="allowed"/> (bit <c>id % 64</c> of word
    /// <c>id / 64</c>); an empty span allows every token. The others get probability 0 before temperature and
    /// truncation, so top-k/top-p/min-p act on the allowed tokens. Log-probabilities stay those of the raw model.
    /// Throws <see cref="InvalidOperationException"/> when the mask allows no token.
    /// </summary>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> history, ReadOnlySpan<ulong> allowed)
    {
        if (logits.Length != VocabSize) throw new ArgumentException($"expected {VocabSize} logits, got {logits.Length}");
        // The logits are read in place unless penalties or a mask change them.
        var values = logits;
        if (HasPenalties || !allowed.IsEmpty)
        {
            var work = _work ??= new float[VocabSize];
            logits.CopyTo(work);
            ApplyPenalties(work, history);
            if (!allowed.IsEmpty) ApplyMask(work, allowed);
            values = work;
        }
        var id = Options.IsGreedy ? LogitMath.IndexOfMax(values) : Draw(values);
        ReportLogProbs(logits, id);
        return id;
    }

    /// <summary>
    /// Takes <paramref name="id"/> as this step's token without a draw (a constraint allowed no other) and reports its
    /// log-probabilities as <see cref="Sample(ReadOnlySpan{float}, ReadOnlySpan{int}, ReadOnlySpan{ulong})"/> would.
    /// </summary>
    public void Take(ReadOnlySpan<float> logits, int id)
    {
        if (logits.Length != VocabSize) throw new ArgumentException($"expected {VocabSize} logits, got {logits.Length}");
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)id, (uint)VocabSize, nameof(id));
        ReportLogProbs(logits, id);
    }

    private static void ApplyMask(Span<float> work, ReadOnlySpan<ulong> allowed)
    {
        if (allowed.Length * 64 < work.Length) throw new ArgumentException($"the mask covers {allowed.Length * 64} tokens, fewer than {work.Length}");
        var any = false;
        for (var i = 0; i < work.Length; i++)
        {
            if ((allowed[i >> 6] & (1UL << (i & 63))) == 0) work[i] = float.NegativeInfinity;
            else any = true;
        }
        if (!any) throw new InvalidOperationException("the constraint allows no token here");
    }

    private void ApplyPenalties(Span<float> work, ReadOnlySpan<int> history)
    {
        if (!HasPenalties) return;
        var o = Options;
        var counts = _counts ??= new int[VocabSize];
        var window = o.PenaltyWindow < 0 ? history : history[Math.Max(0, history.Length - o.PenaltyWindow)..];
        foreach (var t in window)
        {
            if ((uint)t < (uint)VocabSize) counts[t]++;
        }
        foreach (var t in window)
        {
            if ((uint)t >= (uint)VocabSize || counts[t] == 0) continue;
            var count = counts[t];
            counts[t] = 0; // each distinct token once; also resets the counts for the next call
            // llama.cpp llama_sampler_penalties_apply: the repetition penalty always moves the logit towards "less likely".
            work[t] = work[t] <= 0 ? work[t] * o.RepetitionPenalty : work[t] / o.RepetitionPenalty;
            work[t] -= count * o.FrequencyPenalty + o.PresencePenalty;
        }
    }

    /// <summary>
    /// Temperature, then top-k, top-p and min-p over the candidates in order of probability (ties to the lower id), then
    /// one draw over the kept ones in that order (in id order when none was cut). Only as many candidates as the truncations and the draw reach are put in order (<see cref="RankUpTo"/>):
    /// a full sort of a 150k vocabulary costs tens of milliseconds, while a nucleus is usually a few dozen tokens.
    /// </summary>
    private int Draw(ReadOnlySpan<float> values)
    {
        var o = Options;
        var n = VocabSize;
        var probs = _probs ??= new float[n];
        var invTemperature = 1f / o.Temperature;
        // Weights relative to the most likely candidate (whose weight is exp(0) = 1), summed in double.
        var total = LogitMath.SumExp(values, invTemperature, LogitMath.Max(values) * invTemperature, probs);
        var count = n;
        var ranked = _ranked ?? [];
        if ((o.TopK > 0 && o.TopK < n) || o.TopP < 1f || o.MinP > 0f)
        {
            ranked = _ranked ??= new ulong[n];
            for (var i = 0; i < n; i++) ranked[i] = LogitMath.RankKey(probs[i], i);
            _rankedCount = 0;
        }

        if (o.TopK > 0 && o.TopK < n)
        {
            count = o.TopK;
            RankUpTo(count);
            total = 0;
            for (var i = 0; i < count; i++) total += LogitMath.RankProbability(ranked[i]);
        }
        var truncated = count < n;
        if (o.TopP < 1f)
        {
            double cumulative = 0;
            for (var i = 0; i < count; i++)
            {
                RankUpTo(i + 1);
                cumulative += LogitMath.RankProbability(ranked[i]) / total;
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
            RankUpTo(1);
            var threshold = LogitMath.RankProbability(ranked[0]) * o.MinP; // relative to the top probability
            var kept = 1;
            while (kept < count && RankUpTo(kept + 1) && LogitMath.RankProbability(ranked[kept]) >= threshold) kept++;
            truncated |= kept < count;
            count = kept;
        }
        double acc = 0;
        if (!truncated)
        {
            // Nothing cut: any fixed order draws from the same distribution, and id order needs no ranking at all.
            var v = _random.NextDouble() * total;
            for (var i = 0; i < n; i++)
            {
                acc += probs[i];
                if (v < acc) return i;
            }
            return LogitMath.IndexOfMax(probs); // rounding left v at the very top: the likeliest is as good as any
        }
        double keptTotal = 0;
        for (var i = 0; i < count; i++) keptTotal += LogitMath.RankProbability(ranked[i]);
        var u = _random.NextDouble() * keptTotal;
        for (var i = 0; i < count; i++)
        {
            RankUpTo(i + 1);
            acc += LogitMath.RankProbability(ranked[i]);
            if (u < acc) return LogitMath.RankId(ranked[i]);
        }
        RankUpTo(count);
        return LogitMath.RankId(ranked[count - 1]);
    }

    /// <summary>
    /// Makes sure the first <paramref name="count"/> entries of _ranked are the most likely candidates in order. The
    /// ordered front grows geometrically: the next best are selected from the rest (quickselect) and sorted on their
    /// own; they all rank below the front, so front and new part stay in order. Returns true (for use in conditions).
    /// </summary>
    private bool RankUpTo(int count)
    {
        if (count <= _rankedCount) return true;
        var ranked = _ranked!;
        var n = ranked.Length;
        var target = Math.Min(n, Math.Max(count, _rankedCount == 0 ? FirstRanked : _rankedCount * 8));
        var rest = ranked.AsSpan(_rankedCount);
        LogitMath.SelectSmallest(rest, target - _rankedCount);
        rest[..(target - _rankedCount)].Sort();
        _rankedCount = target;
        return true;
    }

    private void ReportLogProbs(ReadOnlySpan<float> logits, int chosen)
    {
        if (!Options.ReportsLogProbs)
        {
            LastLogProb = float.NaN;
            return;
        }
        var max = LogitMath.Max(logits);
        var logZ = max + (float)Math.Log(LogitMath.SumExp(logits, 1f, max, default));
        LastLogProb = logits[chosen] - logZ;
        if (_top.Length == 0) return;
        // Insertion into a short sorted list: O(n · k) with k ≤ 20, no allocation.
        var filled = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var v = logits[i];
            if (filled == _top.Length && v <= _top[filled - 1].LogProb) continue;
            var pos = filled < _top.Length ? filled++ : filled - 1;
            while (pos > 0 && _top[pos - 1].LogProb < v)
            {
                _top[pos] = _top[pos - 1];
                pos--;
            }
            _top[pos] = new TokenLogProb(i, v);
        }
        for (var i = 0; i < filled; i++) _top[i] = _top[i] with { LogProb = _top[i].LogProb - logZ };
        _topFilled = filled;
    }
}
