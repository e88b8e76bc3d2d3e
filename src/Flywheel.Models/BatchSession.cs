using Flywheel.Models.KvCache;
using Flywheel.Models.Layers;

namespace Flywheel.Models;

/// <summary>
/// Several sequences evaluated together (continuous batching): one paged KV cache shared by all of them, activation
/// buffers for up to <see cref="MaxTokens"/> rows per pass, and logits for up to <see cref="MaxSequences"/> rows.
/// Each <see cref="Forward"/> runs rows of any of the sequences in one pass, so the weights are read once for all of
/// them, and attention runs per sequence over its own cache entries. Nothing is allocated after construction.
/// Not thread-safe: one caller (the scheduler's loop) at a time.
/// </summary>
public sealed class BatchSession
{
    private readonly Model _model;
    private readonly ForwardBuffers _buffers;
    private readonly float[] _logits; // [max_seq, n_vocab]

    /// <param name="cacheCapacity">KV positions all sequences may hold together (the block pool); null means
    /// <paramref name="maxSequences"/> × <paramref name="contextLength"/>.</param>
    public BatchSession(Model model, int maxSequences, int contextLength, int maxTokens, long? cacheCapacity = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequences, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        _model = model;
        Cache = new KeyValueCache(model.Config, contextLength, maxSequences, cacheCapacity);
        _buffers = new ForwardBuffers(model.Config, model.Weights, model.Kernels, maxTokens, contextLength, maxSequences, Cache.BlockSize);
        _logits = new float[(long)maxSequences * model.Config.VocabSize];
    }

    public Model Model => _model;
    public KeyValueCache Cache { get; }
    public int MaxSequences => Cache.MaxSequences;
    public int ContextLength => Cache.ContextLength;
    public int MaxTokens => _buffers.MaxTokens;
    public int VocabSize => _model.Config.VocabSize;

    /// <summary>
    /// Evaluates <paramref name="tokens"/>, laid out by <paramref name="segments"/>, appending to each sequence's cache.
    /// Returns the wanted logits, segment after segment [Σ LogitRows, n_vocab]; owned by the session and overwritten
    /// by the next call. At most <see cref="MaxSequences"/> logit rows per pass.
    /// </summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<BatchSegment> segments)
    {
        var wanted = 0;
        foreach (var s in segments)
        {
            if ((uint)s.Sequence >= (uint)MaxSequences) throw new ArgumentOutOfRangeException(nameof(segments), $"sequence {s.Sequence} is not below {MaxSequences}");
            wanted += s.LogitRows;
        }
        if (wanted > MaxSequences) throw new ArgumentException($"{wanted} logit rows exceed the limit of {MaxSequences} per pass", nameof(segments));
        var logits = _logits.AsSpan(0, wanted * VocabSize);
        Transformer.Forward(_model.Kernels, _model.Config, _model.Weights, _buffers, Cache, segments, tokens, logits);
        return logits;
    }

    /// <summary>Forgets every position of <paramref name="sequence"/>.</summary>
    public void Free(int sequence) => Cache.Truncate(sequence, 0);
}
