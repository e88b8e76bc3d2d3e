using System.Numerics.Tensors;
using System.Runtime.InteropServices;
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

        // Append every sequence's keys and values to its cache entries first, rounded to F16 as llama.cpp's ggml_cpy
        // into an f16 cache; each sequence then attends over what it holds.
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
                // TensorPrimitives.ConvertToHalf rounds as the (Half) cast of Half16.FromFloat does, a vector at a time.
                var at = cache.Row(s.Sequence, s.StartPosition + t) * kv;
                TensorPrimitives.ConvertToHalf(rowKeys.Slice(t * kv, kv), MemoryMarshal.Cast<ushort, Half>(keys.Slice(at, kv)));
                TensorPrimitives.ConvertToHalf(rowValues.Slice(t * kv, kv), MemoryMarshal.Cast<ushort, Half>(values.Slice(at, kv)));
            }
        }

        // Segments short enough for the decode numerics attend together: their block tables are gathered and one
        // DecodeAttention spreads all their (row, KV head) pairs over the threads, where a call per sequence would
        // hand the pool only a few chunks at a time. Each row's output is what a call for its sequence alone gives.
        // A segment long enough for the tiled numerics attends on its own, and ends the run of rows gathered so far.
        var qw = c.QueryWidth;
        var tables = b.AttentionTables;
        int runRow = 0, runRows = 0, entries = 0;
        foreach (var s in segments)
        {
            var table = cache.BlockTable(s.Sequence);
            if (s.RowCount >= ReferenceKernels.TiledAttentionRows || table.Length > tables.Length)
            {
                DecodeRun(k, c, b, keys, values, cache.BlockSize, runRow, runRows, entries, scale);
                (runRows, entries) = (0, 0);
                k.Attention(q.Slice(s.StartRow * qw, s.RowCount * qw), keys, values, table, cache.BlockSize,
                    attn.Slice(s.StartRow * qw, s.RowCount * qw), s.RowCount, c.HeadCount, c.KvHeadCount, c.HeadDim,
                    positions.Slice(s.StartRow, s.RowCount), scale, b.AttentionScratch);
                continue;
            }
            if (entries + table.Length > tables.Length)
            {
                DecodeRun(k, c, b, keys, values, cache.BlockSize, runRow, runRows, entries, scale);
                (runRows, entries) = (0, 0);
            }
            if (runRows == 0) runRow = s.StartRow;
            table.CopyTo(tables.AsSpan(entries));
            b.AttentionTableStarts.AsSpan(s.StartRow, s.RowCount).Fill(entries);
            b.AttentionTableLengths.AsSpan(s.StartRow, s.RowCount).Fill(table.Length);
            entries += table.Length;
            runRows += s.RowCount;
        }
        DecodeRun(k, c, b, keys, values, cache.BlockSize, runRow, runRows, entries, scale);
        k.MatMul(w.Output, attn, projected, tokens, scratch);
        TensorPrimitives.Add(hidden, projected, hidden);
    }

    /// <summary>Attention of the gathered rows [firstRow, firstRow + rows), whose tables fill the first <paramref name="entries"/> of the table buffer.</summary>
    private static void DecodeRun(IKernelSet k, ModelConfig c, ForwardBuffers b, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values,
        int blockSize, int firstRow, int rows, int entries, float scale)
    {
        if (rows == 0) return;
        var qw = c.QueryWidth;
        k.DecodeAttention(b.Query.AsSpan(firstRow * qw, rows * qw), keys, values, b.AttentionTables.AsSpan(0, entries),
            b.AttentionTableStarts.AsSpan(firstRow, rows), b.AttentionTableLengths.AsSpan(firstRow, rows), blockSize,
            b.AttentionOut.AsSpan(firstRow * qw, rows * qw), rows, c.HeadCount, c.KvHeadCount, c.HeadDim, b.Positions.AsSpan(firstRow, rows),
            scale, b.AttentionScratch);
    }

    private static void AddBias(Span<float> rows, ReadOnlySpan<float> bias)
    {
        for (var r = 0; r < rows.Length; r += bias.Length)
        {
            var row = rows.Slice(r, bias.Length);
            TensorPrimitives.Add(row, bias, row);
        }
    }
}
