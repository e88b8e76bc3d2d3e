using Flywheel.Models.KvCache;
using Flywheel.Models.Layers;

namespace Flywheel.Models;

/// <summary>
/// One sequence being evaluated: a KV cache plus activation buffers, allocated once at creation; the
/// <see cref="Decode"/> path does not allocate. Call order: <see cref="Prefill"/> (any length; chunked by the
/// batch size) then <see cref="Decode"/> per generated token; <see cref="Reset"/> or <see cref="Truncate"/> to
/// reuse. The logits span returned is owned by the session and overwritten by the next call.
/// Not thread-safe: one caller at a time. Different sessions of one model may run concurrently.
/// </summary>
public sealed class ModelSession
{
    private const int Sequence = 0;
    private readonly Model _model;
    private readonly ForwardBuffers _buffers;

    internal ModelSession(Model model, SessionOptions options)
    {
        _model = model;
        var ctx = options.ContextLength ?? Math.Min(model.Config.TrainedContextLength, Model.DefaultMaxContextLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(ctx, 1, nameof(options.ContextLength));
        var batch = Math.Min(options.BatchSize, ctx);
        Cache = new KeyValueCache(model.Config, ctx);
        _buffers = new ForwardBuffers(model.Config, model.Weights, model.Kernels, batch, ctx);
    }

    public Model Model => _model;
    public KeyValueCache Cache { get; }
    public int ContextLength => Cache.ContextLength;
    public int BatchSize => _buffers.MaxTokens;

    /// <summary>Tokens evaluated so far (the next token's position).</summary>
    public int Position => Cache.Length(Sequence);

    public int VocabSize => _model.Config.VocabSize;

    /// <summary>Evaluates <paramref name="tokens"/> after what the cache holds; returns the logits after the last one [n_vocab].</summary>
    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens to evaluate", nameof(tokens));
        for (var start = 0; start < tokens.Length; start += BatchSize)
        {
            var chunk = tokens.Slice(start, Math.Min(BatchSize, tokens.Length - start));
            Transformer.Forward(_model.Kernels, _model.Config, _model.Weights, _buffers, Cache, Sequence, chunk, Position, _buffers.Logits, firstLogit: chunk.Length - 1);
        }
        return _buffers.Logits;
    }

    /// <summary>Evaluates one token; returns the logits for the next [n_vocab].</summary>
    public ReadOnlySpan<float> Decode(int token)
    {
        Transformer.Forward(_model.Kernels, _model.Config, _model.Weights, _buffers, Cache, Sequence, [token], Position, _buffers.Logits, firstLogit: 0);
        return _buffers.Logits;
    }

    /// <summary>
    /// Evaluates <paramref name="tokens"/> and writes the logits after each of tokens[firstLogitRow..] into
    /// <paramref name="logits"/> [n_tokens − firstLogitRow, n_vocab] (perplexity, scoring). Rows before
    /// <paramref name="firstLogitRow"/> skip the output projection, the costliest matmul of a small model.
    /// </summary>
    public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits, int firstLogitRow = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)firstLogitRow, (uint)tokens.Length, nameof(firstLogitRow));
        var vocab = VocabSize;
        if (logits.Length < (long)(tokens.Length - firstLogitRow) * vocab)
        {
            throw new ArgumentException($"logits must hold {tokens.Length - firstLogitRow}×{vocab} floats");
        }
        for (var start = 0; start < tokens.Length; start += BatchSize)
        {
            var n = Math.Min(BatchSize, tokens.Length - start);
            var first = Math.Clamp(firstLogitRow - start, 0, n); // first row of this batch with wanted logits
            var output = first == n ? Span<float>.Empty : logits.Slice((start + first - firstLogitRow) * vocab, (n - first) * vocab);
            Transformer.Forward(_model.Kernels, _model.Config, _model.Weights, _buffers, Cache, Sequence, tokens.Slice(start, n), Position,
                output, firstLogit: first);
        }
    }

    /// <summary>
    /// Writes the embedding of <paramref name="tokens"/> into <paramref name="output"/> [n_embd]: the forward pass
    /// without the output projection, the mean over tokens of the final-RMSNorm'ed hidden states, L2-normalised.
    /// Uses (and clears, before and after) this session's cache; allocates nothing beyond what the session holds.
    /// Throws <see cref="InvalidOperationException"/> when the tokens exceed the context length.
    /// </summary>
    public void Embed(ReadOnlySpan<int> tokens, Span<float> output)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens to embed", nameof(tokens));
        var e = _model.Config.EmbeddingLength;
        if (output.Length != e) throw new ArgumentException($"output must hold n_embd = {e} floats", nameof(output));
        if (tokens.Length > ContextLength)
        {
            throw new InvalidOperationException($"context is full: {tokens.Length} tokens exceed the context length {ContextLength}");
        }
        Reset();
        output.Clear();
        try
        {
            for (var start = 0; start < tokens.Length; start += BatchSize)
            {
                var chunk = tokens.Slice(start, Math.Min(BatchSize, tokens.Length - start));
                Transformer.Forward(_model.Kernels, _model.Config, _model.Weights, _buffers, Cache, Sequence, chunk, Position, Span<float>.Empty,
                    firstLogit: chunk.Length);
                Transformer.AddNormedHidden(_model.Kernels, _model.Config, _model.Weights, _buffers, chunk.Length, output);
            }
        }
        finally
        {
            Reset();
        }
        var sumSquares = 0.0;
        for (var i = 0; i < e; i++)
        {
            output[i] /= tokens.Length;
            sumSquares += (double)output[i] * output[i];
        }
        if (sumSquares > 0)
        {
            var scale = (float)(1 / Math.Sqrt(sumSquares));
            for (var i = 0; i < e; i++) output[i] *= scale;
        }
    }

    /// <summary>Forgets every position.</summary>
    public void Reset() => Cache.Truncate(Sequence, 0);

    /// <summary>Keeps the first <paramref name="length"/> positions (e.g. to reuse a shared prompt prefix).</summary>
    public void Truncate(int length) => Cache.Truncate(Sequence, length);
}
