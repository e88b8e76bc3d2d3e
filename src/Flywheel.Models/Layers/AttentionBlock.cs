using Flywheel.Kernels;
using Flywheel.Models.KvCache;
using Flywheel.Kernels.Reference;

namespace Flywheel.Models.Layers;

/// <summary>
/// Pre-norm self-attention with a residual: h += W_o · attn(rope(norm_qk(W_q·x + b_q)), rope(norm_qk(W_k·x + b_k)), W_v·x + b_v),
/// x = rmsnorm(h). Optional parts (biases: Qwen2; per-head Q/K RMSNorm: Qwen3) are present when their weights are.
/// </summary>
internal static class AttentionBlock
{
    public static void Forward(IKernelSet k, ModelConfig c, AttentionWeights w, ForwardBuffers b, KeyValueCache cache,
        int layer, ReadOnlySpan<BatchSegment> segments, int tokens)
    {
        var e = c.EmbeddingLength;
        var hidden = b.Hidden.AsSpan(0, tokens * e);                   // [n_tokens, n_embd]
        var normed = b.Normed.AsSpan(0, tokens * e);                   // [n_tokens, n_embd]
        var q = b.Query.AsSpan(0, tokens * c.QueryWidth);              // [n_tokens, n_head, head_dim]
        var key = b.Key.AsSpan(0, tokens * c.KvWidth);                 // [n_tokens, n_kv_head, head_dim]
        var value = b.Value.AsSpan(0, tokens * c.KvWidth);             // [n_tokens, n_kv_head, head_dim]
        var attn = b.AttentionOut.AsSpan(0, tokens * c.QueryWidth);    // [n_tokens, n_head, head_dim]
        var projected = b.Projected.AsSpan(0, tokens * e);             // [n_tokens, n_embd]
        var positions = b.Positions.AsSpan(0, tokens);
        var scratch = b.MatMulScratch.AsSpan();

        k.RmsNorm(hidden, w.Norm, normed, e, c.RmsNormEpsilon);
        k.MatMul(w.Query, normed, q, tokens, scratch);
        k.MatMul(w.Key, normed, key, tokens, scratch);
        k.MatMul(w.Value, normed, value, tokens, scratch);
        if (w.QueryBias is { } bq) AddBias(q, bq);
        if (w.KeyBias is { } bk) AddBias(key, bk);
        if (w.ValueBias is { } bv) AddBias(value, bv);
        if (w.QueryNorm is { } qn) k.RmsNorm(q, qn, q, c.HeadDim, c.RmsNormEpsilon);
        if (w.KeyNorm is { } kn) k.RmsNorm(key, kn, key, c.HeadDim, c.RmsNormEpsilon);
        k.Rope(q, tokens, c.HeadCount, c.HeadDim, positions, c.Rope);
        k.Rope(key, tokens, c.KvHeadCount, c.HeadDim, positions, c.Rope);

        // Append each sequence's keys and values to its cache entries, rounded to F16 as llama.cpp's ggml_cpy into an
        // f16 cache, then attend per sequence over what that sequence holds.
        var scale = 1f / MathF.Sqrt(c.HeadDim);
        var kv = c.KvWidth;
        var keys = cache.Keys(layer);       // [n_block · block_size, kv_width] pool, addressed through block tables
        var values = cache.Values(layer);
        foreach (var s in segments)
        {
            var rowKeys = key.Slice(s.StartRow * kv, s.RowCount * kv);
            var rowValues = value.Slice(s.StartRow * kv, s.RowCount * kv);
            for (var t = 0; t < s.RowCount; t++)
            {
                var at = cache.Row(s.Sequence, s.StartPosition + t) * kv;
                for (var i = 0; i < kv; i++)
                {
                    keys[at + i] = Half16.FromFloat(rowKeys[t * kv + i]);
                    values[at + i] = Half16.FromFloat(rowValues[t * kv + i]);
                }
            }
            var qw = c.QueryWidth;
            k.Attention(q.Slice(s.StartRow * qw, s.RowCount * qw), keys, values, cache.BlockTable(s.Sequence), cache.BlockSize,
                attn.Slice(s.StartRow * qw, s.RowCount * qw), s.RowCount, c.HeadCount, c.KvHeadCount, c.HeadDim,
                positions.Slice(s.StartRow, s.RowCount), scale, b.AttentionScratch);
        }
        k.MatMul(w.Output, attn, projected, tokens, scratch);
        for (var i = 0; i < hidden.Length; i++) hidden[i] += projected[i];
    }

    private static void AddBias(Span<float> rows, ReadOnlySpan<float> bias)
    {
        for (var r = 0; r < rows.Length; r += bias.Length)
        {
            var row = rows.Slice(r, bias.Length);
            for (var i = 0; i < bias.Length; i++) row[i] += bias[i];
        }
    }
}
