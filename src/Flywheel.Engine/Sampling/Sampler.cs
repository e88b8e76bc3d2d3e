namespace Flywheel.Engine.Sampling;

/// <summary>
/// Chooses tokens from logits per <see cref="SamplingOptions"/>. Buffers are sized once for the vocabulary, so
/// <see cref="Sample"/> does not allocate. Holds the random state of one sequence: create one sampler per
/// sequence; not thread-safe.
/// </summary>
public sealed class Sampler
{
    public const int MaxTopLogProbs = 20;

    private readonly float[] _work;       // [n_vocab] logits after penalties and temperature
    private readonly float[] _sortKeys;   // [n_vocab] negated logits of candidates, sorted ascending
    private readonly int[] _candidates;   // [n_vocab] token ids in the order of _sortKeys
    private readonly int[] _counts;       // [n_vocab] occurrences in the penalty window
    private readonly TokenLogProb[] _top; // [TopLogProbs]
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
        _work = new float[vocabSize];
        _sortKeys = new float[vocabSize];
        _candidates = new int[vocabSize];
        _counts = new int[vocabSize];
        _top = new TokenLogProb[options.TopLogProbs];
        _random = new SplitMix64(options.Seed ?? (ulong)Random.Shared.NextInt64());
    }

    public int VocabSize { get; }
    public SamplingOptions Options { get; }

    /// <summary>Log-probability of the token last returned by <see cref="Sample"/> (raw model distribution).</summary>
    public float LastLogProb { get; private set; }

    /// <summary>The <see cref="SamplingOptions.TopLogProbs"/> most likely tokens at the last step, best first; valid until the next call.</summary>
    public ReadOnlySpan<TokenLogProb> TopLogProbs => _top.AsSpan(0, _topFilled);

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
        logits.CopyTo(_work);
        ApplyPenalties(_work, history);
        if (!allowed.IsEmpty) ApplyMask(_work, allowed);
        var id = Options.IsGreedy ? ArgMax(_work) : Draw();
        ReportLogProbs(logits, id);
        return id;
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
        var o = Options;
        if (o.RepetitionPenalty == 1f && o.PresencePenalty == 0f && o.FrequencyPenalty == 0f) return;
        var window = o.PenaltyWindow < 0 ? history : history[Math.Max(0, history.Length - o.PenaltyWindow)..];
        foreach (var t in window)
        {
            if ((uint)t < (uint)VocabSize) _counts[t]++;
        }
        foreach (var t in window)
        {
            if ((uint)t >= (uint)VocabSize || _counts[t] == 0) continue;
            var count = _counts[t];
            _counts[t] = 0; // each distinct token once; also resets the counts for the next call
            // llama.cpp llama_sampler_penalties_apply: the repetition penalty always moves the logit towards "less likely".
            work[t] = work[t] <= 0 ? work[t] * o.RepetitionPenalty : work[t] / o.RepetitionPenalty;
            work[t] -= count * o.FrequencyPenalty + o.PresencePenalty;
        }
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best]) best = i;
        }
        return best;
    }

    private int Draw()
    {
        var o = Options;
        var n = VocabSize;
        var invTemperature = 1f / o.Temperature;
        for (var i = 0; i < n; i++)
        {
            _sortKeys[i] = -(_work[i] * invTemperature);
            _candidates[i] = i;
        }
        // Most likely first. With top-k only the k best need ordering: partition them to the front first.
        // The sorts are unstable but deterministic, so a seed still reproduces its draws.
        var count = o.TopK > 0 ? Math.Min(o.TopK, n) : n;
        if (count < n) SelectSmallest(_sortKeys, _candidates, count);
        Array.Sort(_sortKeys, _candidates, 0, count);

        // Softmax over the kept candidates (max is the first), in double for stable sums.
        var max = -_sortKeys[0];
        double total = 0;
        for (var i = 0; i < count; i++)
        {
            var p = Math.Exp(-_sortKeys[i] - max);
            _sortKeys[i] = (float)p; // reuse as probabilities
            total += p;
        }
        if (o.TopP < 1f)
        {
            double cumulative = 0;
            for (var i = 0; i < count; i++)
            {
                cumulative += _sortKeys[i] / total;
                if (cumulative >= o.TopP)
                {
                    count = i + 1;
                    break;
                }
            }
        }
        if (o.MinP > 0f)
        {
            var threshold = _sortKeys[0] * o.MinP; // relative to the top probability (whose weight is exp(0) = 1)
            var kept = 1;
            while (kept < count && _sortKeys[kept] >= threshold) kept++;
            count = kept;
        }
        double keptTotal = 0;
        for (var i = 0; i < count; i++) keptTotal += _sortKeys[i];
        var u = _random.NextDouble() * keptTotal;
        double acc = 0;
        for (var i = 0; i < count; i++)
        {
            acc += _sortKeys[i];
            if (u < acc) return _candidates[i];
        }
        return _candidates[count - 1];
    }

    /// <summary>Quickselect (Hoare partition): moves the <paramref name="k"/> smallest keys, with their ids, to the front.</summary>
    private static void SelectSmallest(float[] keys, int[] ids, int k)
    {
        int lo = 0, hi = keys.Length - 1;
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
                    (ids[i], ids[j]) = (ids[j], ids[i]);
                    i++;
                    j--;
                }
            }
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else return;
        }
    }

    private void ReportLogProbs(ReadOnlySpan<float> logits, int chosen)
    {
        var max = float.NegativeInfinity;
        foreach (var v in logits) max = MathF.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        var logZ = max + (float)Math.Log(sum);
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
