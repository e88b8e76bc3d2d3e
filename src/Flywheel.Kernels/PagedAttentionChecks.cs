namespace Flywheel.Kernels;

/// <summary>
/// Argument checks the attention kernels share, so every set refuses the same bad inputs with the same messages
/// before any pointer arithmetic trusts them.
/// </summary>
internal static class PagedAttentionChecks
{
    public static void Shape(int heads, int kvHeads, int blockSize)
    {
        if (kvHeads < 1 || heads % kvHeads != 0) throw new ArgumentException($"{heads} query heads do not group over {kvHeads} KV heads");
        if (blockSize < 1 || (blockSize & (blockSize - 1)) != 0) throw new ArgumentException($"block size {blockSize} is not a power of two");
    }

    /// <summary>
    /// Every pool row that positions 0..<paramref name="last"/> of <paramref name="table"/> address lies inside both
    /// pools. Only the rows read are checked: the last block may be partly outside an unpaged buffer.
    /// </summary>
    public static void Blocks(ReadOnlySpan<int> table, int blockSize, long kvStride, int last, int keysLength, int valuesLength)
    {
        for (var j = 0; j * blockSize <= last; j++)
        {
            var end = ((long)table[j] * blockSize + Math.Min(blockSize, last + 1 - j * blockSize)) * kvStride;
            if (table[j] < 0 || end > keysLength || end > valuesLength) throw new ArgumentException($"block {table[j]} is outside the KV pool");
        }
    }

    /// <summary>
    /// The inputs of <see cref="IKernelSet.DecodeAttention"/>: sizes, each row's table inside
    /// <paramref name="blockTables"/>, each row's position inside its table and every block it reads inside the pool.
    /// </summary>
    public static void DecodeRows(int queryLength, int outputLength, int keysLength, int valuesLength, ReadOnlySpan<int> blockTables,
        ReadOnlySpan<int> tableStarts, ReadOnlySpan<int> tableLengths, int blockSize, int rows, int heads, int kvHeads, int headDim,
        ReadOnlySpan<int> positions)
    {
        Shape(heads, kvHeads, blockSize);
        if (rows < 0 || headDim < 1) throw new ArgumentException($"{rows} rows of head size {headDim} is not an attention shape");
        if (queryLength < (long)rows * heads * headDim || outputLength < (long)rows * heads * headDim)
        {
            throw new ArgumentException("query and output must hold rows × heads × headDim floats");
        }
        if (positions.Length < rows || tableStarts.Length < rows || tableLengths.Length < rows)
        {
            throw new ArgumentException("one position, table start and table length per query row are needed");
        }
        var kvStride = (long)kvHeads * headDim;
        // Rows of one sequence share a table: check its blocks again only when a row reaches further than those before.
        int checkedStart = -1, checkedLength = -1, checkedLast = -1;
        for (var t = 0; t < rows; t++)
        {
            int start = tableStarts[t], length = tableLengths[t], p = positions[t];
            if (start < 0 || length < 0 || start > blockTables.Length - length)
            {
                throw new ArgumentException($"row {t}'s block table [{start}, {(long)start + length}) is outside the {blockTables.Length} table entries");
            }
            if (p < 0 || p >= (long)length * blockSize) throw new ArgumentException($"position {p} of row {t} is beyond the cache its table holds");
            if (start == checkedStart && length == checkedLength && p <= checkedLast) continue;
            Blocks(blockTables.Slice(start, length), blockSize, kvStride, p, keysLength, valuesLength);
            (checkedStart, checkedLength, checkedLast) = (start, length, p);
        }
    }
}
