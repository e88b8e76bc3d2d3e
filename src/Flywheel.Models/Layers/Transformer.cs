using Flywheel.Kernels;
using Flywheel.Models.KvCache;

namespace Flywheel.Models.Layers;

/// <summary>
/// The decoder-only forward pass shared by every architecture: embed, N × (attention block, feed-forward block),
/// final RMSNorm, output projection. Architectures differ only in the weights and config they bind.
/// A pass may carry rows of several sequences (continuous batching): every matmul takes all rows at once, so the
/// weights are read once per pass, and attention runs per sequence over its own cache entries.
/// </summary>
internal static class Transformer
{
    /// <summary>
    /// Runs <paramref name="tokens"/> at positions startPosition.. of <paramref name="sequence"/>, appending to the
    /// cache. Writes the logits after tokens firstLogit..n−1 into <paramref name="logits"/> [n − firstLogit, n_vocab];
    /// firstLogit = n skips the output projection altogether.
    /// </summary>
    public static void Forward(IKernelSet k, ModelConfig c, TransformerWeights w, ForwardBuffers b, KeyValueCache cache,
        int sequence, ReadOnlySpan<int> tokens, int startPosition, Span<float> logits, int firstLogit)
    {
        var n = tokens.Length;
        if (n == 0) return;
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)firstLogit, (uint)n, nameof(firstLogit));
        Span<BatchSegment> one = stackalloc BatchSegment[1];
        one[0] = new BatchSegment(sequence, 0, n, startPosition, firstLogit);
        Forward(k, c, w, b, cache, one, tokens, logits);
    }

    /// <summary>
    /// Runs a batch whose rows belong to the sequences of <paramref name="segments"/>. Writes the wanted logits
    /// segment after segment into <paramref name="logits"/> [Σ LogitRows, n_vocab].
    /// </summary>
    public static void Forward(IKernelSet k, ModelConfig c, TransformerWeights w, ForwardBuffers b, KeyValueCache cache,
        ReadOnlySpan<BatchSegment> segments, ReadOnlySpan<int> tokens, Span<float> logits)
    {
        var n = tokens.Length;
        if (n == 0) return;
        if (n > b.MaxTokens) throw new ArgumentException($"{n} tokens exceed the batch limit of {b.MaxTokens}");
        var e = c.EmbeddingLength;
        var hidden = b.Hidden.AsSpan(0, n * e); // [n_tokens, n_embd]
        var row = 0;
        var wanted = 0;
        foreach (var s in segments)
        {
            if (s.StartRow != row || s.RowCount < 1 || (uint)s.FirstLogitRow > (uint)s.RowCount)
            {
                throw new ArgumentException("batch segments must cover the rows in order, each with at least one row", nameof(segments));
            }
            if (s.StartPosition > cache.Length(s.Sequence))
            {
                throw new ArgumentException($"sequence {s.Sequence} holds {cache.Length(s.Sequence)} positions; cannot start at {s.StartPosition}");
            }
            if (s.StartPosition + s.RowCount > cache.ContextLength)
            {
                throw new InvalidOperationException($"context is full: {s.StartPosition} + {s.RowCount} tokens exceed the context length {cache.ContextLength}");
            }
            for (var t = 0; t < s.RowCount; t++) b.Positions[row + t] = s.StartPosition + t;
            row += s.RowCount;
            wanted += s.LogitRows;
        }
        if (row != n) throw new ArgumentException($"batch segments cover {row} rows, not {n}", nameof(segments));
        if (logits.Length < (long)wanted * c.VocabSize) throw new ArgumentException($"logits must hold {wanted}×{c.VocabSize} floats", nameof(logits));
        for (var t = 0; t < n; t++)
        {
            var id = tokens[t];
            if ((uint)id >= (uint)c.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {id} is outside the vocabulary of {c.VocabSize}");
            k.GetRow(w.TokenEmbedding, id, hidden.Slice(t * e, e));
        }
        // Take (or copy-on-write) the cache blocks every segment writes, once for all layers.
        foreach (var s in segments) cache.PrepareWrite(s.Sequence, s.StartPosition, s.StartPosition + s.RowCount);
        for (var l = 0; l < w.Layers.Count; l++)
        {
            AttentionBlock.Forward(k, c, w.Layers[l].Attention, b, cache, l, segments, n);
            FeedForwardBlock.Forward(k, c, w.Layers[l].FeedForward, b, n);
        }
        foreach (var s in segments) cache.SetLength(s.Sequence, s.StartPosition + s.RowCount);

        // Only rows whose logits are wanted go through the output projection (llama.cpp's inp_out_ids); they are
        // gathered into consecutive rows of Normed so one matmul serves every sequence.
        if (wanted == 0) return;
        var normed = b.Normed.AsSpan(0, wanted * e); // [wanted, n_embd]
        var outRow = 0;
        foreach (var s in segments)
        {
            if (s.LogitRows == 0) continue;
            k.RmsNorm(hidden.Slice((s.StartRow + s.FirstLogitRow) * e, s.LogitRows * e), w.OutputNorm,
                normed.Slice(outRow * e, s.LogitRows * e), e, c.RmsNormEpsilon);
            outRow += s.LogitRows;
        }
        k.MatMul(w.Output, normed, logits[..(wanted * c.VocabSize)], wanted, b.MatMulScratch);
    }

    /// <summary>
    /// After a <see cref="Forward(IKernelSet, ModelConfig, TransformerWeights, ForwardBuffers, KeyValueCache, int, ReadOnlySpan{int}, int, Span{float}, int)"/>
    /// of <paramref name="rows"/> tokens, adds each row's final-RMSNorm'ed hidden state into <paramref name="sum"/> [n_embd].
    /// </summary>
    public static void AddNormedHidden(IKernelSet k, ModelConfig c, TransformerWeights w, ForwardBuffers b, int rows, Span<float> sum)
    {
        var e = c.EmbeddingLength;
        var normed = b.Normed.AsSpan(0, rows * e); // [rows, n_embd]
        k.RmsNorm(b.Hidden.AsSpan(0, rows * e), w.OutputNorm, normed, e, c.RmsNormEpsilon);
        for (var r = 0; r < rows; r++)
        {
            var x = normed.Slice(r * e, e);
            for (var i = 0; i < e; i++) sum[i] += x[i];
        }
    }
}
