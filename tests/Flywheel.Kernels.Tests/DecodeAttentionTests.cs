using Flywheel.Kernels.Cpu;
using Flywheel.Kernels.Reference;
using Flywheel.Kernels.Tests.Cpu;
using static Flywheel.Kernels.Tests.TestData;

namespace Flywheel.Kernels.Tests;

/// <summary>
/// <see cref="IKernelSet.DecodeAttention"/> (rows of several sequences in one call) against one-row
/// <see cref="IKernelSet.Attention"/> calls of the same set, bit for bit, for every kernel set this machine runs.
/// </summary>
public sealed class DecodeAttentionTests
{
    private const int BlockSize = 4;

    /// <summary>The reference (both numerics) and every accelerated set the CPU runs.</summary>
    public static IEnumerable<string> SetNames =>
        ["reference", "reference-unfused", .. CpuKernels.IsSupported ? KernelSetParity.Names : []];

    private static IKernelSet Get(string name) => name switch
    {
        "reference" => KernelSets.Reference,
        "reference-unfused" => new ReferenceKernels(fusedAttention: false),
        _ => KernelSetParity.Get(name),
    };

    /// <summary>
    /// set, group (query heads per KV head), kvHeads, headDim: groups of 1, 2 and 7, head sizes 8, 64 and 128 (and 12,
    /// which the accelerated sets hand to the reference).
    /// </summary>
    public static TheoryData<string, int, int, int> Cases()
    {
        var data = new TheoryData<string, int, int, int>();
        foreach (var set in SetNames)
        {
            data.Add(set, 1, 2, 8);
            data.Add(set, 2, 2, 64);
            data.Add(set, 7, 2, 64);
            data.Add(set, 7, 1, 128);
            data.Add(set, 2, 1, 128);
            data.Add(set, 1, 4, 64);
            data.Add(set, 7, 2, 8);
            data.Add(set, 2, 2, 12);
        }
        return data;
    }

    /// <summary>
    /// Sequences of different lengths in one pool, their blocks scattered and interleaved (none in table order), two of
    /// them sharing a prefix block; rows at position 0, at either side of block edges and at each sequence's end, and
    /// sequences with several rows (a short prompt) next to single decode rows.
    /// </summary>
    private static (int[] Tables, int[] Starts, int[] Lengths, int[] Positions, int PoolBlocks) Layout()
    {
        int[] lengths = [1, 4, 5, 9, 23, 40, 3];
        var poolBlocks = 0;
        var order = new List<int>();
        var sequenceTables = new int[lengths.Length][];
        for (var s = 0; s < lengths.Length; s++)
        {
            var blocks = (lengths[s] + BlockSize - 1) / BlockSize;
            sequenceTables[s] = new int[blocks];
            poolBlocks += blocks;
        }
        poolBlocks += 3; // spare blocks nobody reads
        // Hand the pool's blocks out in a scrambled order, round robin over the sequences, so every table is
        // non-contiguous and the sequences' blocks interleave.
        var free = Enumerable.Range(0, poolBlocks).OrderBy(b => (b * 7919) % 113).ToArray();
        var next = 0;
        for (var j = 0; j < sequenceTables.Max(t => t.Length); j++)
        {
            for (var s = 0; s < lengths.Length; s++) if (j < sequenceTables[s].Length) sequenceTables[s][j] = free[next++];
        }
        sequenceTables[6][0] = sequenceTables[5][0]; // a shared prefix block

        // Rows: (sequence, position). Sequence 4 is a three-row prompt chunk, sequence 5 two rows; the rest decode rows.
        (int Sequence, int Position)[] rows =
        [
            (0, 0), (1, 3), (2, 4), (3, 8), (4, 15), (4, 16), (4, 22), (5, 0), (5, 39), (6, 2),
        ];
        var tables = new List<int>();
        var starts = new int[rows.Length];
        var tableLengths = new int[rows.Length];
        var positions = new int[rows.Length];
        var startOf = new int[lengths.Length];
        for (var s = 0; s < lengths.Length; s++)
        {
            startOf[s] = tables.Count;
            tables.AddRange(sequenceTables[s]);
        }
        for (var t = 0; t < rows.Length; t++)
        {
            var s = rows[t].Sequence;
            (starts[t], tableLengths[t], positions[t]) = (startOf[s], sequenceTables[s].Length, rows[t].Position);
        }
        return (tables.ToArray(), starts, tableLengths, positions, poolBlocks);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rows_of_several_sequences_give_what_one_row_calls_give(string set, int group, int kvHeads, int headDim)
    {
        var kernels = Get(set);
        var heads = group * kvHeads;
        var (tables, starts, lengths, positions, poolBlocks) = Layout();
        var rows = positions.Length;
        var stride = kvHeads * headDim;
        var width = heads * headDim;
        var keys = RandomFloats(poolBlocks * BlockSize * stride, 40 + headDim, 2f).Select(Half16.FromFloat).ToArray();
        var values = RandomFloats(keys.Length, 41 + headDim, 1.5f).Select(Half16.FromFloat).ToArray();
        var query = RandomFloats(rows * width, 42 + group, 3f);
        var scale = 1 / MathF.Sqrt(headDim);
        var scratch = new float[kernels.AttentionScratchFloats(64, heads, headDim)];

        var actual = new float[rows * width];
        kernels.DecodeAttention(query, keys, values, tables, starts, lengths, BlockSize, actual, rows, heads, kvHeads, headDim, positions, scale, scratch);

        var expected = new float[rows * width];
        for (var t = 0; t < rows; t++)
        {
            kernels.Attention(query.AsSpan(t * width, width), keys, values, tables.AsSpan(starts[t], lengths[t]), BlockSize,
                expected.AsSpan(t * width, width), 1, heads, kvHeads, headDim, positions.AsSpan(t, 1), scale, scratch);
        }
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToUInt32Bits(expected[i]) == BitConverter.SingleToUInt32Bits(actual[i]),
                $"{set} row {i / width} output {i % width}: {actual[i]:R}, one-row call {expected[i]:R}");
        }
    }

    /// <summary>
    /// More rows than the tiled numerics start at (ten sequences of seven rows): every row still gets the decode
    /// numerics, exactly what a call per sequence of seven rows gives.
    /// </summary>
    [Theory]
    [MemberData(nameof(SetNamesData))]
    public void Many_rows_keep_the_decode_numerics(string set)
    {
        var kernels = Get(set);
        const int sequences = 10, perSequence = 7, heads = 14, kvHeads = 2, headDim = 64, blocks = 4;
        const int rows = sequences * perSequence, width = heads * headDim, stride = kvHeads * headDim;
        Assert.True(rows >= ReferenceKernels.TiledAttentionRows);
        var poolBlocks = sequences * blocks + 1;
        var keys = RandomFloats(poolBlocks * BlockSize * stride, 50, 2f).Select(Half16.FromFloat).ToArray();
        var values = RandomFloats(keys.Length, 51, 1.5f).Select(Half16.FromFloat).ToArray();
        var query = RandomFloats(rows * width, 52, 3f);
        // Sequence s owns pool blocks s + 1, s + 11, s + 21, s + 31: scattered through the pool.
        var tables = new int[sequences * blocks];
        for (var s = 0; s < sequences; s++) for (var j = 0; j < blocks; j++) tables[s * blocks + j] = s + 1 + j * sequences;
        var starts = new int[rows];
        var lengths = new int[rows];
        var positions = new int[rows];
        for (var t = 0; t < rows; t++)
        {
            var s = t / perSequence;
            (starts[t], lengths[t], positions[t]) = (s * blocks, blocks, s % 3 + t % perSequence); // the last rows of a short prompt
        }
        var scale = 1 / MathF.Sqrt(headDim);
        var scratch = new float[kernels.AttentionScratchFloats(blocks * BlockSize, heads, headDim)];
        var actual = new float[rows * width];
        kernels.DecodeAttention(query, keys, values, tables, starts, lengths, BlockSize, actual, rows, heads, kvHeads, headDim, positions, scale, scratch);
        var expected = new float[rows * width];
        for (var s = 0; s < sequences; s++)
        {
            var r = s * perSequence;
            kernels.Attention(query.AsSpan(r * width, perSequence * width), keys, values, tables.AsSpan(s * blocks, blocks), BlockSize,
                expected.AsSpan(r * width, perSequence * width), perSequence, heads, kvHeads, headDim, positions.AsSpan(r, perSequence), scale, scratch);
        }
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{set}: the batched rows differ from a call per sequence");
    }

    public static TheoryData<string> SetNamesData() => new(SetNames);

    [Theory]
    [MemberData(nameof(SetNamesData))]
    public void Bad_tables_and_positions_are_refused(string set)
    {
        var kernels = Get(set);
        const int heads = 2, kvHeads = 1, headDim = 8;
        var q = new float[2 * heads * headDim];
        var output = new float[q.Length];
        var kv = new ushort[3 * BlockSize * headDim]; // a pool of three blocks
        var scratch = new float[kernels.AttentionScratchFloats(16, heads, headDim)];
        int[] tables = [0, 1, 2, 1];
        void Call(int[] t, int[] starts, int[] lengths, int[] positions) =>
            kernels.DecodeAttention(q, kv, kv, t, starts, lengths, BlockSize, output, 2, heads, kvHeads, headDim, positions, 1f, scratch);

        Call(tables, [0, 2], [2, 2], [7, 5]); // fine: both rows inside their tables and the pool
        var ex = Assert.Throws<ArgumentException>(() => Call(tables, [0, 2], [2, 2], [7, 8]));
        Assert.Contains("beyond the cache", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Call(tables, [0, 2], [2, 1], [0, 4]));
        Assert.Contains("beyond the cache", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Call(tables, [0, 3], [2, 2], [0, 0]));
        Assert.Contains("table entries", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Call(tables, [-1, 0], [2, 2], [0, 0]));
        Assert.Contains("table entries", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Call([0, 1, 3, 1], [0, 2], [2, 2], [0, 0]));
        Assert.Contains("outside the KV pool", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Call([0, 1, 2, -1], [0, 2], [2, 2], [0, 5]));
        Assert.Contains("outside the KV pool", ex.Message);
        // The second row shares the first's table but reads further, into a block outside the pool.
        ex = Assert.Throws<ArgumentException>(() => Call([0, 5], [0, 0], [2, 2], [1, 6]));
        Assert.Contains("outside the KV pool", ex.Message);
        Assert.Throws<ArgumentException>(() => Call(tables, [0], [2], [0, 0]));
    }
}
