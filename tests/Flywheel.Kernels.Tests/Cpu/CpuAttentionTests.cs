using System.Runtime.Intrinsics;
using Flywheel.Kernels.Cpu;
using Flywheel.Kernels.Reference;
using Xunit.Abstractions;
using static Flywheel.Kernels.Tests.TestData;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>The CPU set's streaming attention and its F16 helpers against the reference.</summary>
public sealed unsafe class CpuAttentionTests(ITestOutputHelper output)
{
    /// <summary>
    /// Attention follows the reference step for step; only the order of the double q·k sum differs, which changes a
    /// score only when products span ~30 binades, so the error allowed is tiny: this fraction of the largest |output|.
    /// </summary>
    public const float AttentionRelativeTolerance = 1e-6f;

    /// <summary>
    /// From <see cref="ReferenceKernels.TiledAttentionRows"/> rows the multiply-add chains are the reference's exactly and
    /// only the tile's exp is vectorized (a few ulp from MathF.Exp), so the outputs differ by a few float ulps.
    /// </summary>
    public const float TiledAttentionRelativeTolerance = 2e-6f;

    /// <summary>The reference's tiled numerics keep Q, scores and the accumulator in F32: within this fraction of an exact (double) attention.</summary>
    public const float TiledExactRelativeTolerance = 1e-5f;

    [AcceleratedFact]
    public void HalfToFloat_is_exact_for_every_bit_pattern()
    {
        var bits = new ushort[16];
        var got = new float[16];
        var wide = new float[16];
        for (var i = 0; i < 65536; i += 16)
        {
            for (var l = 0; l < 16; l++) bits[l] = (ushort)(i + l);
            fixed (ushort* b = bits)
            fixed (float* g = got)
            fixed (float* w = wide)
            {
                CpuKernels.HalfToFloat(Vector128.Load(b)).Store(g);
                CpuKernels.HalfToFloat(Vector128.Load(b + 8)).Store(g + 8);
                if (CpuKernels.Avx512Supported) CpuKernels.HalfToFloat(Vector256.Load(b)).Store(w);
            }
            for (var l = 0; l < 16; l++)
            {
                var expected = Half16.ToFloat(bits[l]);
                if (float.IsNaN(expected)) Assert.True(float.IsNaN(got[l]), $"0x{bits[l]:X4}");
                else Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(got[l]));
                if (CpuKernels.Avx512Supported) Assert.Equal(BitConverter.SingleToUInt32Bits(got[l]), BitConverter.SingleToUInt32Bits(wide[l]));
            }
        }
    }

    [AcceleratedFact]
    public void RoundToHalf_matches_Half16_Round()
    {
        var r = new Random(5);
        var values = new List<float> { 0f, -0f, 65504f, 65519.99f, 65520f, -65520f, 1e-8f, 2.9802322e-8f, 2.9802326e-8f, 6.1035156e-5f,
            6.1035152e-5f, -3e-6f, 1f + 1f / 4096, 1f + 3f / 4096, float.PositiveInfinity, float.NegativeInfinity };
        for (var i = 0; i < 200_000; i++)
        {
            // Random magnitudes from 2^-30 to 2^18, both signs, plus random bit patterns.
            values.Add((float)((r.NextDouble() * 2 - 1) * Math.Pow(2, r.Next(-30, 18))));
            values.Add(BitConverter.UInt32BitsToSingle((uint)r.NextInt64(0, 1L << 32)));
        }
        // Every tie between neighbouring finite halves, both signs (the midpoint has 12 significant bits, so it is a float),
        // and the values just either side of it.
        for (var h = 0; h < 0x7BFF; h++)
        {
            var tie = (float)(((double)Half16.ToFloat((ushort)h) + Half16.ToFloat((ushort)(h + 1))) / 2);
            foreach (var x in new[] { tie, MathF.BitDecrement(tie), MathF.BitIncrement(tie) })
            {
                values.Add(x);
                values.Add(-x);
            }
        }
        while (values.Count % 16 != 0) values.Add(1f);
        var input = values.ToArray();
        var got = new float[input.Length];
        var wide = new float[input.Length];
        fixed (float* x = input)
        fixed (float* y = got)
        fixed (float* w = wide)
        {
            for (var i = 0; i < input.Length; i += 8) CpuKernels.RoundToHalf(Vector256.Load(x + i)).Store(y + i);
            if (Vector512.IsHardwareAccelerated)
            {
                for (var i = 0; i < input.Length; i += 16) CpuKernels.RoundToHalf(Vector512.Load(x + i)).Store(w + i);
            }
        }
        for (var i = 0; i < input.Length; i++)
        {
            var expected = Half16.Round(input[i]);
            // A NaN comes back as it went in.
            if (float.IsNaN(expected)) Assert.Equal(BitConverter.SingleToUInt32Bits(input[i]), BitConverter.SingleToUInt32Bits(got[i]));
            else Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(got[i]),
                $"{input[i]:R}: expected {expected:R}, got {got[i]:R}");
            if (Vector512.IsHardwareAccelerated) Assert.Equal(BitConverter.SingleToUInt32Bits(got[i]), BitConverter.SingleToUInt32Bits(wide[i]));
        }
    }

    public static TheoryData<string, int, int, int, int, int> Cases()
    {
        var data = new TheoryData<string, int, int, int, int, int>();
        foreach (var set in KernelSetParity.Names)
        {
            // heads, kvHeads, headDim, rows, context: Qwen2.5-0.5B's 14/2/64, plain MHA, head sizes with a tail of 8,
            // one not a multiple of 8 (reference fallback), contexts inside one block, at a block edge and across many.
            data.Add(set, 14, 2, 64, 1, 1);
            data.Add(set, 14, 2, 64, 5, 37);
            data.Add(set, 4, 4, 16, 3, 16);
            data.Add(set, 4, 2, 24, 17, 17);
            data.Add(set, 2, 1, 8, 2, 33);
            data.Add(set, 4, 2, 12, 3, 9);
            data.Add(set, 8, 2, 128, 4, 300);
            // From 64 rows the tiled numerics: a full query tile, ragged query and position tiles, head sizes with and
            // without a tail of 32, a long context, and an odd head size (reference fallback).
            data.Add(set, 14, 2, 64, 70, 769);
            data.Add(set, 14, 2, 64, 64, 64);
            data.Add(set, 4, 2, 24, 65, 130);
            data.Add(set, 8, 2, 128, 100, 300);
            data.Add(set, 6, 3, 40, 129, 200);
            data.Add(set, 2, 1, 8, 64, 5125);
            data.Add(set, 4, 2, 12, 80, 81);
            // The 512-bit tiled path's edges: ragged query tiles (65, 127 rows), an odd key count, a long prompt.
            data.Add(set, 14, 2, 64, 127, 301);
            data.Add(set, 8, 2, 128, 65, 97);
            data.Add(set, 14, 2, 64, 520, 521);
        }
        return data;
    }

    /// <summary>
    /// heads, kvHeads, headDim, rows, context for <see cref="Wide_attention_is_bit_identical_to_256_bit"/>: head sizes 64
    /// and 128 (whole 64-float blocks), 40 and 24 (16-float steps and a tail of 8), 8 (the tail alone); head groups of
    /// 1 to 7; odd key counts;
    /// 64, 65, 127 and 520 query rows for the tiled path, 1 and 5 rows for the step-by-step one.
    /// </summary>
    public static TheoryData<int, int, int, int, int> WideCases() => new()
    {
        { 14, 2, 64, 64, 64 },
        { 14, 2, 64, 65, 131 },
        { 14, 2, 64, 127, 127 },
        { 14, 2, 64, 520, 777 },
        { 8, 2, 128, 64, 65 },
        { 8, 2, 128, 127, 333 },
        { 8, 2, 128, 513, 513 },
        { 6, 3, 40, 129, 200 },
        { 4, 2, 24, 65, 99 },
        { 2, 1, 8, 66, 67 },
        // Head groups of 1 (one query at a time), 5 (three then two) and 7 with a head under 32 floats (tails only).
        { 4, 4, 64, 65, 90 },
        { 5, 1, 40, 64, 70 },
        { 7, 1, 24, 66, 67 },
        { 14, 2, 64, 1, 1 },
        { 14, 2, 64, 1, 299 },
        { 8, 2, 128, 5, 77 },
        { 6, 3, 40, 3, 41 },
    };

    /// <summary>
    /// The 512-bit paths put independent positions or head dimensions in their lanes and keep each lane's chain, so
    /// "avx512" must give exactly what "avx2" gives (a stronger check than the tolerance against the reference).
    /// </summary>
    [AcceleratedTheory]
    [MemberData(nameof(WideCases))]
    public void Wide_attention_is_bit_identical_to_256_bit(int heads, int kvHeads, int headDim, int rows, int context)
    {
        if (!CpuKernels.Avx512Supported)
        {
            output.WriteLine("this CPU lacks AVX-512: nothing to compare");
            return;
        }
        var (q, k, v, table, positions) = Inputs(heads, kvHeads, headDim, rows, context);
        var scale = 1 / MathF.Sqrt(headDim);
        foreach (var (narrow, wide) in new[] { ("avx2", "avx512"), ("avx2-1t", "avx512-1t") })
        {
            var expected = new float[q.Length];
            var actual = new float[q.Length];
            var a = KernelSetParity.Get(narrow);
            var b = KernelSetParity.Get(wide);
            a.Attention(q, k, v, table, Block, expected, rows, heads, kvHeads, headDim, positions, scale, new float[a.AttentionScratchFloats(context, heads, headDim)]);
            b.Attention(q, k, v, table, Block, actual, rows, heads, kvHeads, headDim, positions, scale, new float[b.AttentionScratchFloats(context, heads, headDim)]);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(BitConverter.SingleToUInt32Bits(expected[i]) == BitConverter.SingleToUInt32Bits(actual[i]),
                    $"{wide} output {i}: {actual[i]:R}, {narrow} {expected[i]:R}");
            }
        }
    }

    [AcceleratedTheory]
    [MemberData(nameof(Cases))]
    public void Attention_matches_reference(string set, int heads, int kvHeads, int headDim, int rows, int context)
    {
        var kernels = KernelSetParity.Get(set);
        var (q, k, v, table, positions) = Inputs(heads, kvHeads, headDim, rows, context);
        var scale = 1 / MathF.Sqrt(headDim);
        var expected = new float[q.Length];
        var actual = new float[q.Length];
        KernelSets.Reference.Attention(q, k, v, table, Block, expected, rows, heads, kvHeads, headDim, positions, scale,
            new float[KernelSets.Reference.AttentionScratchFloats(context, heads, headDim)]);
        kernels.Attention(q, k, v, table, Block, actual, rows, heads, kvHeads, headDim, positions, scale,
            new float[kernels.AttentionScratchFloats(context, heads, headDim)]);
        var maxAbs = expected.Max(MathF.Abs);
        var maxDiff = 0f;
        for (var i = 0; i < expected.Length; i++) maxDiff = MathF.Max(maxDiff, MathF.Abs(expected[i] - actual[i]));
        var tolerance = rows >= ReferenceKernels.TiledAttentionRows ? TiledAttentionRelativeTolerance : AttentionRelativeTolerance;
        output.WriteLine($"{set} heads {heads}/{kvHeads} × {headDim}, {rows} rows over {context}: max |Δ| = {maxDiff} (max |y| {maxAbs})");
        Assert.True(maxDiff <= tolerance * maxAbs, $"max difference {maxDiff} exceeds {tolerance * maxAbs}");
    }

    [Theory]
    [InlineData(14, 2, 64, 64, 64)]
    [InlineData(4, 2, 24, 65, 200)]
    [InlineData(2, 1, 8, 70, 1000)]
    public void Reference_tiled_attention_is_close_to_exact_attention(int heads, int kvHeads, int headDim, int rows, int context)
    {
        var (q, k, v, table, positions) = Inputs(heads, kvHeads, headDim, rows, context);
        var scale = 1 / MathF.Sqrt(headDim);
        var actual = new float[q.Length];
        KernelSets.Reference.Attention(q, k, v, table, Block, actual, rows, heads, kvHeads, headDim, positions, scale,
            new float[KernelSets.Reference.AttentionScratchFloats(context, heads, headDim)]);
        var pages = new KvPages(table, Block, kvHeads * headDim);
        var maxAbs = 0.0;
        var maxDiff = 0.0;
        var scores = new double[context];
        for (var t = 0; t < rows; t++)
        {
            for (var h = 0; h < heads; h++)
            {
                var kvh = h / (heads / kvHeads);
                var visible = positions[t] + 1;
                for (var j = 0; j < visible; j++)
                {
                    double dot = 0;
                    for (var i = 0; i < headDim; i++) dot += (double)q[(t * heads + h) * headDim + i] * Half16.ToFloat(k[pages.Offset(j) + kvh * headDim + i]);
                    scores[j] = dot * scale;
                }
                var max = scores.Take(visible).Max();
                var sum = scores.Take(visible).Sum(x => Math.Exp(x - max));
                for (var i = 0; i < headDim; i++)
                {
                    double y = 0;
                    for (var j = 0; j < visible; j++) y += Math.Exp(scores[j] - max) / sum * Half16.ToFloat(v[pages.Offset(j) + kvh * headDim + i]);
                    maxAbs = Math.Max(maxAbs, Math.Abs(y));
                    maxDiff = Math.Max(maxDiff, Math.Abs(y - actual[(t * heads + h) * headDim + i]));
                }
            }
        }
        output.WriteLine($"heads {heads}/{kvHeads} × {headDim}, {rows} rows over {context}: max |Δ| from exact = {maxDiff:E3} (max |y| {maxAbs})");
        Assert.True(maxDiff <= TiledExactRelativeTolerance * maxAbs, $"max difference {maxDiff} exceeds {TiledExactRelativeTolerance * maxAbs}");
    }

    // Block size 4, so most cases cross several blocks and one ends inside a block.
    internal const int Block = 4;

    internal static (float[] Q, ushort[] K, ushort[] V, int[] Table, int[] Positions) Inputs(int heads, int kvHeads, int headDim, int rows, int context)
    {
        var q = RandomFloats(rows * heads * headDim, 1 + context, 3f);
        // A paged pool with the sequence's blocks scattered in reverse order behind a spare block.
        var blocks = (context + Block - 1) / Block;
        var table = Enumerable.Range(0, blocks).Select(b => blocks - b).ToArray();
        var stride = kvHeads * headDim;
        var k = new ushort[(blocks + 1) * Block * stride];
        var v = new ushort[k.Length];
        var kf = RandomFloats(k.Length, 2 + context, 2f);
        var vf = RandomFloats(v.Length, 3 + context, 1.5f);
        for (var i = 0; i < k.Length; i++) { k[i] = Half16.FromFloat(kf[i]); v[i] = Half16.FromFloat(vf[i]); }
        // The last rows of a prompt: positions context−rows .. context−1.
        var positions = Enumerable.Range(context - rows, rows).ToArray();
        return (q, k, v, table, positions);
    }

    [AcceleratedFact]
    public void Attention_refuses_positions_beyond_the_cache()
    {
        var kernels = KernelSetParity.Get("avx2");
        var q = new float[2 * 8];
        var k = new ushort[3 * 8];
        var ex = Assert.Throws<ArgumentException>(() =>
            kernels.Attention(q, k, k, [0], 2, new float[16], 1, 2, 1, 8, [3], 1f, new float[64]));
        Assert.Contains("beyond the cache", ex.Message);
        ex = Assert.Throws<ArgumentException>(() =>
            kernels.Attention(q, k, k, [0, 2], 2, new float[16], 1, 2, 1, 8, [3], 1f, new float[64]));
        Assert.Contains("outside the KV pool", ex.Message);
        ex = Assert.Throws<ArgumentException>(() =>
            kernels.Attention(q, k, k, [0, 1], 3, new float[16], 1, 2, 1, 8, [1], 1f, new float[64]));
        Assert.Contains("power of two", ex.Message);
    }
}
