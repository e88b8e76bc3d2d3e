using System.Runtime.CompilerServices;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Reference;

public sealed partial class ReferenceKernels
{
    public int AttentionScratchFloats(int contextLength, int heads, int headDim) => Math.Max(contextLength, TiledAttentionTile) + 2 * headDim;

    /// <summary>
    /// A call with at least this many query rows takes the tiled numerics (<see cref="TiledAttentionForward"/>), as
    /// llama.cpp's CPU flash attention does once a batch fills its 64-row query tile (GGML_FA_TILE_Q in ggml-cpu's
    /// common.h); fewer rows (decode, short prompts) keep the F16-accumulator numerics.
    /// </summary>
    public const int TiledAttentionRows = 64;

    /// <summary>Cache positions per tile of the tiled numerics (GGML_FA_TILE_KV): tiles start at multiples of it.</summary>
    public const int TiledAttentionTile = 64;

    /// <summary>
    /// llama.cpp's unfused CPU attention over an F16 cache: KQ = mul_mat(K, Q) with Q rounded to F16 (F16's vec_dot
    /// type), soft_max_ext(KQ · scale + causal mask), then KQV = mul_mat(V, KQ) with the probabilities rounded to F16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Attention(ReadOnlySpan<float> query, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values, ReadOnlySpan<int> blockTable,
        int blockSize, Span<float> output, int rows, int heads, int kvHeads, int headDim, ReadOnlySpan<int> positions, float scale,
        Span<float> scratch)
    {
        PagedAttentionChecks.Shape(heads, kvHeads, blockSize);
        var group = heads / kvHeads;
        var kvStride = kvHeads * headDim;
        var pool = new KvPages(blockTable, blockSize, kvStride);
        var last = -1;
        for (var t = 0; t < rows; t++)
        {
            if (positions[t] >= (long)blockTable.Length * blockSize) throw new ArgumentException($"position {positions[t]} is beyond the cache");
            last = Math.Max(last, positions[t]);
        }
        PagedAttentionChecks.Blocks(blockTable, blockSize, kvStride, last, keys.Length, values.Length);
        if (FusedAttention && rows >= TiledAttentionRows)
        {
            TiledAttentionForward(query, keys, values, pool, output, rows, heads, kvHeads, headDim, positions, scale, scratch);
            return;
        }
        if (FusedAttention)
        {
            FusedAttentionForward(query, keys, values, pool, output, rows, heads, kvHeads, headDim, positions, scale, scratch);
            return;
        }
        var q16 = scratch[..headDim];        // [headDim] query rounded to F16
        var scores = scratch[headDim..];     // [visible positions]
        for (var t = 0; t < rows; t++)
        {
            var visible = positions[t] + 1;
            for (var h = 0; h < heads; h++)
            {
                var kvh = h / group;
                var q = query.Slice((t * heads + h) * headDim, headDim);
                for (var d = 0; d < headDim; d++) q16[d] = Half16.Round(q[d]);
                var s = scores[..visible];
                for (var j = 0; j < visible; j++)
                {
                    var k = keys.Slice(pool.Offset(j) + kvh * headDim, headDim);
                    double dot = 0;
                    for (var d = 0; d < headDim; d++) dot += Half16.ToFloat(k[d]) * q16[d];
                    s[j] = (float)dot * scale;
                }
                Softmax(s);
                var o = output.Slice((t * heads + h) * headDim, headDim);
                for (var d = 0; d < headDim; d++)
                {
                    double acc = 0;
                    for (var j = 0; j < visible; j++)
                    {
                        acc += Half16.Round(s[j]) * Half16.ToFloat(values[pool.Offset(j) + kvh * headDim + d]);
                    }
                    o[d] = (float)acc;
                }
            }
        }
    }

    /// <summary>
    /// One <see cref="Attention"/> call of one row per query row, each over its own slice of
    /// <paramref name="blockTables"/>: the definition the faster sets' batched decode attention is held to.
    /// </summary>
    public void DecodeAttention(ReadOnlySpan<float> query, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values, ReadOnlySpan<int> blockTables,
        ReadOnlySpan<int> tableStarts, ReadOnlySpan<int> tableLengths, int blockSize, Span<float> output, int rows, int heads, int kvHeads,
        int headDim, ReadOnlySpan<int> positions, float scale, Span<float> scratch)
    {
        PagedAttentionChecks.DecodeRows(query.Length, output.Length, keys.Length, values.Length, blockTables, tableStarts, tableLengths,
            blockSize, rows, heads, kvHeads, headDim, positions);
        var width = heads * headDim;
        for (var t = 0; t < rows; t++)
        {
            Attention(query.Slice(t * width, width), keys, values, blockTables.Slice(tableStarts[t], tableLengths[t]), blockSize,
                output.Slice(t * width, width), 1, heads, kvHeads, headDim, positions.Slice(t, 1), scale, scratch);
        }
    }

    /// <summary>
    /// llama.cpp's CPU flash attention (ggml_compute_forward_flash_attn_ext_f16 with an F16 cache): Q rounded to F16,
    /// online softmax over positions, and the weighted sum of V kept in an F16 accumulator (rounded after every
    /// multiply-add), divided by the softmax sum at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FusedAttentionForward(ReadOnlySpan<float> query, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values,
        KvPages pool, Span<float> output, int rows, int heads, int kvHeads, int headDim, ReadOnlySpan<int> positions, float scale, Span<float> scratch)
    {
        var group = heads / kvHeads;
        var q16 = scratch[..headDim];                 // [headDim] query rounded to F16
        var acc = scratch.Slice(headDim, headDim);    // [headDim] V accumulator, values kept F16-representable
        for (var t = 0; t < rows; t++)
        {
            var visible = positions[t] + 1;
            for (var h = 0; h < heads; h++)
            {
                var kvh = h / group;
                var q = query.Slice((t * heads + h) * headDim, headDim);
                for (var d = 0; d < headDim; d++) q16[d] = Half16.Round(q[d]);
                acc.Clear();
                var sum = 0f;
                var max = float.NegativeInfinity;
                for (var j = 0; j < visible; j++)
                {
                    var k = keys.Slice(pool.Offset(j) + kvh * headDim, headDim);
                    double dot = 0;
                    for (var d = 0; d < headDim; d++) dot += Half16.ToFloat(k[d]) * q16[d];
                    var s = (float)dot * scale;
                    float ms = 1f, vs = 1f;
                    if (s > max)
                    {
                        var old = max;
                        max = s;
                        ms = MathF.Exp(old - max);
                        for (var d = 0; d < headDim; d++) acc[d] = Half16.Round(acc[d] * ms);
                    }
                    else
                    {
                        vs = MathF.Exp(s - max);
                    }
                    var v = values.Slice(pool.Offset(j) + kvh * headDim, headDim);
                    for (var d = 0; d < headDim; d++) acc[d] = Half16.Round(MathF.FusedMultiplyAdd(Half16.ToFloat(v[d]), vs, acc[d]));
                    sum = sum * ms + vs;
                }
                var inv = sum == 0f ? 0f : 1f / sum;
                var o = output.Slice((t * heads + h) * headDim, headDim);
                for (var d = 0; d < headDim; d++) o[d] = acc[d] * inv;
            }
        }
    }

    /// <summary>
    /// llama.cpp's tiled CPU flash attention (ggml_compute_forward_flash_attn_ext_tiled, taken for batches of at least
    /// <see cref="TiledAttentionRows"/> rows): Q stays F32; per tile of <see cref="TiledAttentionTile"/> cache positions
    /// (aligned to position 0) each score is one float multiply-add chain over the head, times the scale; the running
    /// maximum moves once per tile (rescaling the F32 accumulator and the sum by exp(old − new)), the tile's weights are
    /// exp(s − max) summed in double and added to the float sum, and the accumulator takes weight · value as one
    /// multiply-add chain over positions. Faster sets reproduce the chains exactly; only their exp may differ by ulps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TiledAttentionForward(ReadOnlySpan<float> query, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values,
        KvPages pool, Span<float> output, int rows, int heads, int kvHeads, int headDim, ReadOnlySpan<int> positions, float scale, Span<float> scratch)
    {
        var group = heads / kvHeads;
        var acc = scratch[..headDim];                                   // [headDim] F32 accumulator
        var weights = scratch.Slice(headDim, TiledAttentionTile);       // [tile] scores, then their exp
        for (var t = 0; t < rows; t++)
        {
            var visible = positions[t] + 1;
            for (var h = 0; h < heads; h++)
            {
                var kvh = h / group;
                var q = query.Slice((t * heads + h) * headDim, headDim);
                acc.Clear();
                var sum = 0f;
                var max = float.NegativeInfinity;
                for (var c = 0; c < visible; c += TiledAttentionTile)
                {
                    var n = Math.Min(TiledAttentionTile, visible - c);
                    var tileMax = float.NegativeInfinity;
                    for (var j = 0; j < n; j++)
                    {
                        var k = keys.Slice(pool.Offset(c + j) + kvh * headDim, headDim);
                        var dot = 0f;
                        for (var d = 0; d < headDim; d++) dot = MathF.FusedMultiplyAdd(Half16.ToFloat(k[d]), q[d], dot);
                        weights[j] = dot * scale;
                        tileMax = MathF.Max(tileMax, weights[j]);
                    }
                    if (tileMax > max)
                    {
                        var ms = MathF.Exp(max - tileMax);
                        for (var d = 0; d < headDim; d++) acc[d] *= ms;
                        sum *= ms;
                        max = tileMax;
                    }
                    double tileSum = 0;
                    for (var j = 0; j < n; j++)
                    {
                        weights[j] = MathF.Exp(weights[j] - max);
                        tileSum += weights[j];
                    }
                    sum += (float)tileSum;
                    for (var j = 0; j < n; j++)
                    {
                        var v = values.Slice(pool.Offset(c + j) + kvh * headDim, headDim);
                        var p = weights[j];
                        for (var d = 0; d < headDim; d++) acc[d] = MathF.FusedMultiplyAdd(Half16.ToFloat(v[d]), p, acc[d]);
                    }
                }
                var inv = sum == 0f ? 0f : 1f / sum;
                var o = output.Slice((t * heads + h) * headDim, headDim);
                for (var d = 0; d < headDim; d++) o[d] = acc[d] * inv;
            }
        }
    }
}
