namespace Flywheel.Models.KvCache;

/// <summary>
/// Keys and values of past positions, stored as binary16 like llama.cpp's default cache (type_k = type_v = f16), so
/// attention sees the same rounded values. The cache is paged (vLLM's PagedAttention layout): one pool per layer of
/// fixed-size blocks of <see cref="BlockSize"/> positions, [block, position in block, n_kv_head · head_dim], and a
/// block table per sequence mapping its positions onto pool blocks. Sequences only take the blocks they fill, so the
/// pool can be far smaller than sequences × context.
/// <para>
/// Prefix sharing: every full block a sequence has computed is registered under a hash of ALL the tokens from the
/// start of the sequence to the end of that block. A new sequence whose prompt starts with the same tokens attaches
/// those blocks (<see cref="AttachPrefix"/>) instead of computing them again. Blocks are reference counted; a block
/// no sequence holds stays registered (and reusable) until the pool needs it back, oldest first. A write into a
/// shared block copies it first, so sharing is never visible to the sequences.
/// </para>
/// Sized once at construction; the decode path allocates nothing. Not thread-safe: one caller (a session or the
/// scheduler's loop) at a time.
/// </summary>
public sealed partial class KeyValueCache
{
    /// <summary>Positions per block. A power of two, so a position splits into (block, offset) with a shift.</summary>
    public const int DefaultBlockSize = 16;

    private readonly ushort[][] _keys;      // [n_layer][n_block · block_size · kv_width]
    private readonly ushort[][] _values;    // [n_layer][n_block · block_size · kv_width]
    private readonly int[] _lengths;        // [max_seq] positions held
    private readonly int[][] _tables;       // [max_seq][max_blocks_per_seq] pool block of each sequence block
    private readonly int[] _tableCounts;    // [max_seq] blocks in each table
    private readonly int _blockShift;

    /// <param name="contextLength">Most positions one sequence may hold.</param>
    /// <param name="maxSequences">Sequences (block tables) the cache serves at once.</param>
    /// <param name="capacity">Positions the pool holds in all (rounded up to whole blocks); null means
    /// <paramref name="maxSequences"/> × <paramref name="contextLength"/>, so every sequence can reach its context.</param>
    public KeyValueCache(ModelConfig config, int contextLength, int maxSequences = 1, long? capacity = null, int blockSize = DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequences, 1);
        if (blockSize < 1 || (blockSize & (blockSize - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(blockSize), "the block size must be a power of two");
        ContextLength = contextLength;
        MaxSequences = maxSequences;
        BlockSize = blockSize;
        _blockShift = int.Log2(blockSize);
        KvWidth = config.KvWidth;
        var blocksPerSequence = (contextLength + blockSize - 1) / blockSize;
        var positions = capacity ?? (long)maxSequences * contextLength;
        ArgumentOutOfRangeException.ThrowIfLessThan(positions, 1, nameof(capacity));
        BlockCount = checked((int)Math.Min((positions + blockSize - 1) / blockSize, (long)maxSequences * blocksPerSequence));
        var perLayer = checked(BlockCount * blockSize * KvWidth);
        _keys = new ushort[config.LayerCount][];
        _values = new ushort[config.LayerCount][];
        for (var l = 0; l < config.LayerCount; l++)
        {
            _keys[l] = GC.AllocateUninitializedArray<ushort>(perLayer);
            _values[l] = GC.AllocateUninitializedArray<ushort>(perLayer);
        }
        _lengths = new int[maxSequences];
        _tables = new int[maxSequences][];
        for (var s = 0; s < maxSequences; s++) _tables[s] = new int[blocksPerSequence];
        _tableCounts = new int[maxSequences];
        InitializeBlocks(blocksPerSequence);
    }

    public int ContextLength { get; }
    public int MaxSequences { get; }
    public int BlockSize { get; }

    /// <summary>Blocks in the pool.</summary>
    public int BlockCount { get; }

    /// <summary>n_kv_head · head_dim.</summary>
    public int KvWidth { get; }
    public int LayerCount => _keys.Length;
    public long ByteSize => 2L * LayerCount * BlockCount * BlockSize * KvWidth * sizeof(ushort);

    /// <summary>Positions the pool holds in all.</summary>
    public long Capacity => (long)BlockCount * BlockSize;

    /// <summary>Positions held for <paramref name="sequence"/>.</summary>
    public int Length(int sequence) => _lengths[sequence];

    /// <summary>Blocks held by <paramref name="sequence"/>.</summary>
    public int BlocksHeld(int sequence) => _tableCounts[sequence];

    /// <summary>Forgets positions from <paramref name="length"/> on (0 clears the sequence), giving back whole blocks.</summary>
    public void Truncate(int sequence, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _lengths[sequence]);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        SetLength(sequence, length);
    }

    /// <summary>Sets the positions held; blocks wholly past the new length go back to the pool.</summary>
    internal void SetLength(int sequence, int length)
    {
        var keep = (length + BlockSize - 1) >> _blockShift;
        var table = _tables[sequence];
        for (var j = _tableCounts[sequence] - 1; j >= keep; j--) Release(table[j]);
        if (_tableCounts[sequence] > keep) _tableCounts[sequence] = keep;
        _lengths[sequence] = length;
        ForgetHashesFrom(sequence, length >> _blockShift);
    }

    /// <summary>The pool block of each of <paramref name="sequence"/>'s blocks, in position order.</summary>
    public ReadOnlySpan<int> BlockTable(int sequence) => _tables[sequence].AsSpan(0, _tableCounts[sequence]);

    /// <summary>Blocks <paramref name="sequence"/> still needs to hold positions [0, <paramref name="length"/>).</summary>
    public int BlocksNeeded(int sequence, int length) => Math.Max(0, ((length + BlockSize - 1) >> _blockShift) - _tableCounts[sequence]);

    /// <summary>
    /// Makes positions [<paramref name="start"/>, <paramref name="end"/>) of <paramref name="sequence"/> writable: takes
    /// the blocks it lacks from the pool and copies any shared block the range touches. Throws
    /// <see cref="InvalidOperationException"/> when the pool has no block left.
    /// </summary>
    internal void PrepareWrite(int sequence, int start, int end)
    {
        if (end > ContextLength) throw new InvalidOperationException($"context is full: {end} positions exceed the context length {ContextLength}");
        var table = _tables[sequence];
        var first = start >> _blockShift;
        for (var j = first; j < _tableCounts[sequence]; j++) table[j] = MakePrivate(table[j]);
        while (_tableCounts[sequence] << _blockShift < end)
        {
            var block = Allocate();
            if (block < 0) throw new InvalidOperationException($"the KV cache is full: all {BlockCount} blocks of {BlockSize} positions are in use");
            table[_tableCounts[sequence]++] = block;
        }
        ForgetHashesFrom(sequence, first);
    }

    /// <summary>[n_block · block_size, kv_width] keys of one layer's pool; address rows through a block table.</summary>
    internal Span<ushort> Keys(int layer) => _keys[layer];

    /// <summary>[n_block · block_size, kv_width] values of one layer's pool; address rows through a block table.</summary>
    internal Span<ushort> Values(int layer) => _values[layer];

    /// <summary>Pool row of <paramref name="position"/> in <paramref name="sequence"/>.</summary>
    internal int Row(int sequence, int position) => (_tables[sequence][position >> _blockShift] << _blockShift) | (position & (BlockSize - 1));

    private void CopyBlock(int from, int to, int rows)
    {
        var width = BlockSize * KvWidth;
        for (var l = 0; l < LayerCount; l++)
        {
            _keys[l].AsSpan(from * width, rows * KvWidth).CopyTo(_keys[l].AsSpan(to * width));
            _values[l].AsSpan(from * width, rows * KvWidth).CopyTo(_values[l].AsSpan(to * width));
        }
    }
}
