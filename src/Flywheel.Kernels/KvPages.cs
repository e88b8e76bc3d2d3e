namespace Flywheel.Kernels;

/// <summary>
/// Addresses one sequence's positions in a paged KV pool: position p lives in pool row
/// blockTable[p / blockSize] · blockSize + p % blockSize. The block size is a power of two, so this is a shift and a mask.
/// </summary>
public readonly ref struct KvPages
{
    private readonly ReadOnlySpan<int> _blockTable;
    private readonly int _shift;
    private readonly int _mask;
    private readonly int _rowStride;

    /// <param name="rowStride">Elements per pool row (n_kv_head · head_dim).</param>
    public KvPages(ReadOnlySpan<int> blockTable, int blockSize, int rowStride)
    {
        _blockTable = blockTable;
        _shift = int.Log2(blockSize);
        _mask = blockSize - 1;
        _rowStride = rowStride;
    }

    /// <summary>Element offset in the pool of position <paramref name="position"/>'s row.</summary>
    public int Offset(int position) => ((_blockTable[position >> _shift] << _shift) | (position & _mask)) * _rowStride;
}
