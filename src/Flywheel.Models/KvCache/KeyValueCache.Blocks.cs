namespace Flywheel.Models.KvCache;

/// <summary>The block pool: reference counts, the free list, the registry of computed prefixes and its LRU order.</summary>
public sealed partial class KeyValueCache
{
    private int[] _refs = null!;             // [n_block] sequences holding each block
    private int[] _free = null!;             // [n_block] stack of blocks holding nothing
    private int _freeCount;
    private UInt128[] _blockKeys = null!;    // [n_block] prefix hash a block is registered under
    private bool[] _registered = null!;      // [n_block]
    private Dictionary<UInt128, int> _registry = null!;
    private int[] _lruPrev = null!, _lruNext = null!; // [n_block] registered blocks no sequence holds, oldest first
    private int _lruHead = -1, _lruTail = -1, _lruCount;
    private UInt128[][] _sequenceHashes = null!; // [max_seq][max_blocks_per_seq] prefix hash after each full block
    private int[] _hashedBlocks = null!;     // [max_seq] leading blocks whose prefix hash is known

    private void InitializeBlocks(int blocksPerSequence)
    {
        _refs = new int[BlockCount];
        _free = new int[BlockCount];
        for (var b = 0; b < BlockCount; b++) _free[b] = BlockCount - 1 - b; // pop 0 first
        _freeCount = BlockCount;
        _blockKeys = new UInt128[BlockCount];
        _registered = new bool[BlockCount];
        _registry = new Dictionary<UInt128, int>(BlockCount);
        _lruPrev = new int[BlockCount];
        _lruNext = new int[BlockCount];
        _sequenceHashes = new UInt128[MaxSequences][];
        for (var s = 0; s < MaxSequences; s++) _sequenceHashes[s] = new UInt128[blocksPerSequence];
        _hashedBlocks = new int[MaxSequences];
    }

    /// <summary>Blocks a sequence could take now: free ones plus registered ones no sequence holds.</summary>
    public int FreeBlocks => _freeCount + _lruCount;

    /// <summary>Blocks held by at least one sequence.</summary>
    public int UsedBlocks => BlockCount - FreeBlocks;

    /// <summary>Registered blocks no sequence holds: computed prefixes kept for reuse until the pool needs them.</summary>
    public int ReusableBlocks => _lruCount;

    /// <summary>Positions attached from registered blocks instead of being computed, since construction.</summary>
    public long ReusedPositions { get; private set; }

    /// <summary>
    /// For an empty <paramref name="sequence"/>, attaches the longest run of registered blocks that hold exactly the
    /// leading tokens of <paramref name="tokens"/> and returns the positions attached (a multiple of
    /// <see cref="BlockSize"/>). At least the last token is always left to compute, since its logits are needed.
    /// The caller must evaluate the remaining tokens from the returned position on.
    /// </summary>
    public int AttachPrefix(int sequence, ReadOnlySpan<int> tokens)
    {
        if (_tableCounts[sequence] != 0 || _lengths[sequence] != 0) throw new InvalidOperationException($"sequence {sequence} is not empty");
        var blocks = Math.Min((tokens.Length - 1) >> _blockShift, _tables[sequence].Length);
        var hashes = _sequenceHashes[sequence];
        var hash = UInt128.Zero;
        var attached = 0;
        for (var j = 0; j < blocks; j++)
        {
            hash = Chain(hash, tokens.Slice(j << _blockShift, BlockSize));
            if (!_registry.TryGetValue(hash, out var block)) break;
            if (_refs[block]++ == 0) LruRemove(block);
            _tables[sequence][j] = block;
            hashes[j] = hash;
            attached++;
        }
        _tableCounts[sequence] = attached;
        _hashedBlocks[sequence] = attached;
        _lengths[sequence] = attached << _blockShift;
        ReusedPositions += _lengths[sequence];
        return _lengths[sequence];
    }

    /// <summary>
    /// Registers the full blocks <paramref name="sequence"/> has computed since the last call, so later sequences that
    /// start with the same tokens can attach them. <paramref name="tokens"/> are the sequence's tokens from position 0
    /// and must cover what the cache holds. A block whose prefix is already registered (computed twice by sequences
    /// that ran together) stays private.
    /// </summary>
    public void Commit(int sequence, ReadOnlySpan<int> tokens)
    {
        var full = Math.Min(_lengths[sequence], tokens.Length) >> _blockShift;
        var hashes = _sequenceHashes[sequence];
        for (var j = _hashedBlocks[sequence]; j < full; j++)
        {
            var hash = Chain(j == 0 ? UInt128.Zero : hashes[j - 1], tokens.Slice(j << _blockShift, BlockSize));
            hashes[j] = hash;
            _hashedBlocks[sequence] = j + 1;
            var block = _tables[sequence][j];
            if (_registered[block] || _registry.ContainsKey(hash)) continue;
            _registry.Add(hash, block);
            _registered[block] = true;
            _blockKeys[block] = hash;
        }
    }

    /// <summary>Forgets every registered prefix (blocks no sequence holds go back to the free list).</summary>
    public void ClearPrefixes()
    {
        while (_lruHead >= 0)
        {
            var block = _lruHead;
            LruRemove(block);
            Unregister(block);
            _free[_freeCount++] = block;
        }
        foreach (var block in _registry.Values) _registered[block] = false;
        _registry.Clear();
        Array.Clear(_hashedBlocks);
    }

    private void ForgetHashesFrom(int sequence, int block)
    {
        if (_hashedBlocks[sequence] > block) _hashedBlocks[sequence] = block;
    }

    /// <summary>A block this sequence may write into: a copy when others hold it, unregistered when only we do.</summary>
    private int MakePrivate(int block)
    {
        if (_refs[block] > 1)
        {
            var copy = Allocate();
            if (copy < 0) throw new InvalidOperationException($"the KV cache is full: all {BlockCount} blocks of {BlockSize} positions are in use");
            CopyBlock(block, copy, BlockSize);
            Release(block);
            return copy;
        }
        if (_registered[block]) Unregister(block);
        return block;
    }

    /// <summary>Takes a block for one holder: a free one, else the least recently used registered one; −1 when none.</summary>
    private int Allocate()
    {
        int block;
        if (_freeCount > 0)
        {
            block = _free[--_freeCount];
        }
        else if (_lruHead >= 0)
        {
            block = _lruHead;
            LruRemove(block);
            Unregister(block);
        }
        else
        {
            return -1;
        }
        _refs[block] = 1;
        return block;
    }

    private void Release(int block)
    {
        if (--_refs[block] > 0) return;
        if (_registered[block]) LruAppend(block);
        else _free[_freeCount++] = block;
    }

    private void Unregister(int block)
    {
        if (!_registered[block]) return;
        _registry.Remove(_blockKeys[block]);
        _registered[block] = false;
    }

    private void LruAppend(int block)
    {
        _lruPrev[block] = _lruTail;
        _lruNext[block] = -1;
        if (_lruTail >= 0) _lruNext[_lruTail] = block;
        else _lruHead = block;
        _lruTail = block;
        _lruCount++;
    }

    private void LruRemove(int block)
    {
        var prev = _lruPrev[block];
        var next = _lruNext[block];
        if (prev >= 0) _lruNext[prev] = next;
        else _lruHead = next;
        if (next >= 0) _lruPrev[next] = prev;
        else _lruTail = prev;
        _lruCount--;
    }

    /// <summary>
    /// The prefix hash after one more block: two independent 64-bit lanes of the murmur3 finaliser over every token
    /// since position 0, so a key names the whole prefix, not just the block. At 128 bits an accidental collision is
    /// out of reach (about 2^-64 even across 2^32 registered blocks), so keys are trusted without storing tokens.
    /// </summary>
    internal static UInt128 Chain(UInt128 previous, ReadOnlySpan<int> tokens)
    {
        var a = (ulong)previous ^ 0x9E3779B97F4A7C15UL;
        var b = (ulong)(previous >> 64) ^ 0xD6E8FEB86659FD93UL;
        foreach (var t in tokens)
        {
            a = Mix(a ^ (uint)t);
            b = Mix(b + ((ulong)(uint)t * 0xC2B2AE3D27D4EB4FUL) + 1);
        }
        return new UInt128(b, a);
    }

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        x ^= x >> 33;
        return x;
    }
}
