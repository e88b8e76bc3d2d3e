namespace Flywheel.Models.KvCache;

/// <summary>
/// Keys and values of past positions, stored as binary16 like llama.cpp's default cache (type_k = type_v = f16),
/// so attention sees the same rounded values. Laid out per layer as [sequence, position, n_kv_head · head_dim];
/// sized once at construction (no growth in the decode path). Holds <see cref="MaxSequences"/> independent slots,
/// one per concurrent sequence; a paged cache with shared prefix blocks replaces this for continuous batching.
/// Not thread-safe: one writer per sequence slot.
/// </summary>
public sealed class KeyValueCache
{
    private readonly ushort[][] _keys;    // [n_layer][max_seq · n_ctx · kv_width]
    private readonly ushort[][] _values;  // [n_layer][max_seq · n_ctx · kv_width]
    private readonly int[] _lengths;      // [max_seq]

    public KeyValueCache(ModelConfig config, int contextLength, int maxSequences = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequences, 1);
        ContextLength = contextLength;
        MaxSequences = maxSequences;
        KvWidth = config.KvWidth;
        var perLayer = checked(maxSequences * contextLength * KvWidth);
        _keys = new ushort[config.LayerCount][];
        _values = new ushort[config.LayerCount][];
        for (var l = 0; l < config.LayerCount; l++)
        {
            _keys[l] = GC.AllocateUninitializedArray<ushort>(perLayer);
            _values[l] = GC.AllocateUninitializedArray<ushort>(perLayer);
        }
        _lengths = new int[maxSequences];
    }

    public int ContextLength { get; }
    public int MaxSequences { get; }
    /// <summary>n_kv_head · head_dim.</summary>
    public int KvWidth { get; }
    public int LayerCount => _keys.Length;
    public long ByteSize => 2L * LayerCount * MaxSequences * ContextLength * KvWidth * sizeof(ushort);

    /// <summary>Positions held for <paramref name="sequence"/>.</summary>
    public int Length(int sequence) => _lengths[sequence];

    /// <summary>Forgets positions from <paramref name="length"/> on (0 clears the sequence).</summary>
    public void Truncate(int sequence, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _lengths[sequence]);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _lengths[sequence] = length;
    }

    internal void SetLength(int sequence, int length) => _lengths[sequence] = length;

    /// <summary>[n_ctx, kv_width] keys of one sequence in one layer.</summary>
    internal Span<ushort> Keys(int layer, int sequence) => _keys[layer].AsSpan(sequence * ContextLength * KvWidth, ContextLength * KvWidth);

    /// <summary>[n_ctx, kv_width] values of one sequence in one layer.</summary>
    internal Span<ushort> Values(int layer, int sequence) => _values[layer].AsSpan(sequence * ContextLength * KvWidth, ContextLength * KvWidth);
}
