using Flywheel.Kernels;
using Flywheel.Models.KvCache;

namespace Flywheel.Models.Layers;

/// <summary>
/// The decoder-only forward pass shared by every architecture: embed, N × (attention block, feed-forward block),
/// final RMSNorm, output projection. Architectures differ only in the weights and config they bind.
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
        if (n > b.MaxTokens) throw new ArgumentException($"{n} tokens exceed the batch limit of {b.MaxTokens}");
        if (startPosition + n > cache.ContextLength)
        {
            throw new InvalidOperationException($"context is full: {startPosition} + {n} tokens exceed the context length {cache.ContextLength}");
        }
        var e = c.EmbeddingLength;
        var hidden = b.Hidden.AsSpan(0, n * e); // [n_tokens, n_embd]
        for (var t = 0; t < n; t++)
        {
            var id = tokens[t];
            if ((uint)id >= (uint)c.VocabSize) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {id} is outside the vocabulary of {c.VocabSize}");
            k.GetRow(w.TokenEmbedding, id, hidden.Slice(t * e, e));
            b.Positions[t] = startPosition + t;
        }
        for (var l = 0; l < w.Layers.Count; l++)
        {
            AttentionBlock.Forward(k, c, w.Layers[l].Attention, b, cache, l, sequence, n, startPosition);
            FeedForwardBlock.Forward(k, c, w.Layers[l].FeedForward, b, n);
        }
        cache.SetLength(sequence, startPosition + n);

        // Only rows whose logits are wanted go through the output projection (llama.cpp's inp_out_ids).
        var first = firstLogit;
        var rows = n - first;
        if (rows == 0) return;
        var normed = b.Normed.AsSpan(0, rows * e); // [rows, n_embd]
        k.RmsNorm(hidden[(first * e)..], w.OutputNorm, normed, e, c.RmsNormEpsilon);
        k.MatMul(w.Output, normed, logits[..(rows * c.VocabSize)], rows, b.MatMulScratch);
    }
}
