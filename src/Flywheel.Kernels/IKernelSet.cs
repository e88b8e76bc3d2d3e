using Flywheel.Tensors;

namespace Flywheel.Kernels;

/// <summary>
/// The seam through which every compute kernel is swapped (DESIGN.md habit 2). A set is chosen once at startup
/// (<see cref="KernelSets.Default"/>); a partial backend declines an op through <see cref="Supports"/>.
/// Layout: matrices are row-major, and a weight matrix is a <see cref="TensorView"/> in GGUF order (<c>Shape[0]</c> =
/// row length = input features, <c>Shape[1]</c> = rows = output features).
/// Thread-safety: implementations are stateless; calls may run concurrently on different buffers. Buffers passed in
/// must not overlap unless a method says so. Methods do not allocate on the managed heap.
/// </summary>
public interface IKernelSet
{
    string Name { get; }

    bool Supports(KernelOp op, GgmlType type);

    /// <summary>Bytes of scratch <see cref="MatMul"/> needs for <paramref name="rows"/> input rows against a weight of this type.</summary>
    long MatMulScratchBytes(GgmlType weightType, int inputFeatures, int rows);

    /// <summary>
    /// <c>output[t, o] = Σ_i weight[o, i] · input[t, i]</c> for <paramref name="rows"/> rows t.
    /// input: [rows, in], output: [rows, out]. <paramref name="scratch"/> holds at least <see cref="MatMulScratchBytes"/>.
    /// </summary>
    void MatMul(TensorView weight, ReadOnlySpan<float> input, Span<float> output, int rows, Span<byte> scratch);

    /// <summary>
    /// Prepares a weight matrix for this set's <see cref="MatMul"/>, once, at load: either <paramref name="weight"/>
    /// itself, or a view of the same tensor whose <see cref="TensorView.Packed"/> holds the set's rearranged copy
    /// (e.g. output rows interleaved for the SIMD kernels). The caller owns that copy and disposes it after the last
    /// matmul that uses the view. The view stays a valid GGML view: row lookups and other sets read its original bytes.
    /// Thread-safe; allocates (it is not for the hot path).
    /// </summary>
    TensorView PrepareWeight(TensorView weight) => weight;

    /// <summary>Dequantizes row <paramref name="row"/> of <paramref name="table"/> into <paramref name="output"/> (embedding lookup).</summary>
    void GetRow(TensorView table, int row, Span<float> output);

    /// <summary>RMSNorm of each row of length <paramref name="width"/>, in place allowed: y = x / sqrt(mean(x²) + eps) · weight.</summary>
    void RmsNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, Span<float> output, int width, float epsilon);

    /// <summary>
    /// Rotates each head of each row in place. data: [rows, heads, headDim]; positions: [rows].
    /// </summary>
    void Rope(Span<float> data, int rows, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope);

    /// <summary>Softmax of one row in place.</summary>
    void Softmax(Span<float> values);

    /// <summary>output[i] = silu(gate[i]) · up[i]; output may alias gate.</summary>
    void SwiGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output);

    /// <summary>
    /// Causal attention of new queries over one sequence's cached keys and values (F16, as llama.cpp's default
    /// cache type), grouped-query: query head h reads KV head h / (heads / kvHeads).
    /// query: [rows, heads, headDim]. keys/values: a paged pool [blocks · blockSize, kvHeads, headDim] as binary16 bits;
    /// the sequence's position p lives in pool row blockTable[p / blockSize] · blockSize + p % blockSize (blockSize is
    /// a power of two; a contiguous cache is the table 0, 1, 2, ... with any block size).
    /// positions[t] is the absolute position of query row t, which sees positions 0..positions[t].
    /// output: [rows, heads, headDim]. scratch: at least <see cref="AttentionScratchFloats"/> floats.
    /// </summary>
    void Attention(ReadOnlySpan<float> query, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values, ReadOnlySpan<int> blockTable, int blockSize,
        Span<float> output, int rows, int heads, int kvHeads, int headDim, ReadOnlySpan<int> positions, float scale, Span<float> scratch);

    /// <summary>
    /// <see cref="Attention"/> for query rows of several sequences at once (a batched decode step), each row over its own
    /// block table in the same paged pool: row t reads the table
    /// <c>blockTables[tableStarts[t] .. tableStarts[t] + tableLengths[t])</c> and sees positions 0..positions[t] of it.
    /// Rows of one sequence may share a table. Every row gets exactly the output a one-row <see cref="Attention"/> call
    /// over its table gives (the numerics of calls below <c>ReferenceKernels.TiledAttentionRows</c> rows), whatever the
    /// number of rows. query and output: [rows, heads, headDim]; keys, values, blockSize, scale: as
    /// <see cref="Attention"/>. scratch: at least <see cref="AttentionScratchFloats"/> floats for the longest row.
    /// Throws <see cref="ArgumentException"/> when a row's table lies outside <paramref name="blockTables"/>, a
    /// position outside its row's table, or a block read outside the pool.
    /// </summary>
    void DecodeAttention(ReadOnlySpan<float> query, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values, ReadOnlySpan<int> blockTables,
        ReadOnlySpan<int> tableStarts, ReadOnlySpan<int> tableLengths, int blockSize, Span<float> output, int rows, int heads, int kvHeads,
        int headDim, ReadOnlySpan<int> positions, float scale, Span<float> scratch);

    int AttentionScratchFloats(int contextLength, int heads, int headDim);
}
