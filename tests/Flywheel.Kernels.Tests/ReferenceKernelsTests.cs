using System.Runtime.InteropServices;
using Flywheel.Kernels.Reference;
using Flywheel.Tensors;
using static Flywheel.Kernels.Tests.TestData;

namespace Flywheel.Kernels.Tests;

/// <summary>The scalar reference kernels against plain double-precision formulas.</summary>
public sealed unsafe class ReferenceKernelsTests
{
    private static readonly ReferenceKernels Kernels = new();

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(769)]
    public void RmsNorm_matches_formula(int width)
    {
        var x = RandomFloats(width * 3, 1, 4f);
        var w = RandomFloats(width, 2);
        var y = new float[x.Length];
        Kernels.RmsNorm(x, w, y, width, 1e-5f);
        for (var r = 0; r < 3; r++)
        {
            var row = x.AsSpan(r * width, width);
            double ms = 0;
            foreach (var v in row) ms += (double)v * v;
            var scale = 1 / Math.Sqrt(ms / width + 1e-5);
            for (var i = 0; i < width; i++) Assert.Equal(row[i] * scale * w[i], y[r * width + i], 1e-5);
        }
    }

    [Fact]
    public void Softmax_matches_formula_and_sums_to_one()
    {
        var x = RandomFloats(5125, 3, 20f);
        var expected = x.Select(v => Math.Exp(v - x.Max())).ToArray();
        var sum = expected.Sum();
        Kernels.Softmax(x);
        for (var i = 0; i < x.Length; i++) Assert.Equal(expected[i] / sum, x[i], 1e-6);
        Assert.Equal(1.0, x.Sum(v => (double)v), 1e-5);
    }

    [Fact]
    public void SwiGlu_is_silu_gate_times_up()
    {
        var g = RandomFloats(173, 4, 6f);
        var u = RandomFloats(173, 5, 3f);
        var y = new float[173];
        Kernels.SwiGlu(g, u, y);
        for (var i = 0; i < y.Length; i++) Assert.Equal(g[i] / (1 + Math.Exp(-g[i])) * u[i], y[i], 1e-5);
    }

    [Theory]
    [InlineData(false, 64, 64)]
    [InlineData(true, 64, 64)]
    [InlineData(false, 128, 32)] // partial rotation: the tail passes through
    [InlineData(true, 128, 32)]
    public void Rope_rotates_pairs_by_position_angles(bool neox, int headDim, int dims)
    {
        const int heads = 3;
        int[] positions = [0, 1, 17, 4000];
        var rope = new RopeParameters { Dimensions = dims, NeoX = neox, FreqBase = 10000f };
        var x = RandomFloats(positions.Length * heads * headDim, 6);
        var y = x.ToArray();
        Kernels.Rope(y, positions.Length, heads, headDim, positions, rope);
        for (var t = 0; t < positions.Length; t++)
        {
            for (var h = 0; h < heads; h++)
            {
                var o = (t * heads + h) * headDim;
                for (var i = 0; i < dims / 2; i++)
                {
                    var theta = positions[t] * Math.Pow(10000, -2.0 * i / dims);
                    var (a, b) = neox ? (i, i + dims / 2) : (2 * i, 2 * i + 1);
                    var ea = x[o + a] * Math.Cos(theta) - x[o + b] * Math.Sin(theta);
                    var eb = x[o + a] * Math.Sin(theta) + x[o + b] * Math.Cos(theta);
                    // Angles are built by repeated float multiplication (as ggml does); at position 4000 that costs ~1e-3 rad.
                    Assert.Equal(ea, y[o + a], 3e-3);
                    Assert.Equal(eb, y[o + b], 3e-3);
                }
                for (var i = dims; i < headDim; i++) Assert.Equal(x[o + i], y[o + i]);
            }
        }
    }

    [Fact]
    public void Rope_neox_equals_normal_on_half_split_permuted_rows()
    {
        // Hugging Face q/k rows are the GGUF llama rows with pairs (2i, 2i+1) moved to (i, i + d/2): NeoX RoPE on the
        // permuted row is the permutation of normal RoPE on the original — why HF llama can run unpermuted with NeoX.
        const int d = 32;
        var x = RandomFloats(d, 7);
        var permuted = new float[d];
        for (var i = 0; i < d / 2; i++)
        {
            permuted[i] = x[2 * i];
            permuted[i + d / 2] = x[2 * i + 1];
        }
        int[] pos = [123];
        Kernels.Rope(x, 1, 1, d, pos, new RopeParameters { Dimensions = d, NeoX = false });
        Kernels.Rope(permuted, 1, 1, d, pos, new RopeParameters { Dimensions = d, NeoX = true });
        for (var i = 0; i < d / 2; i++)
        {
            Assert.Equal(x[2 * i], permuted[i]);
            Assert.Equal(x[2 * i + 1], permuted[i + d / 2]);
        }
    }

    [Fact]
    public void Rope_linear_scaling_divides_positions()
    {
        var x = RandomFloats(64, 8);
        var a = x.ToArray();
        var b = x.ToArray();
        Kernels.Rope(a, 1, 1, 64, [40], new RopeParameters { Dimensions = 64, NeoX = true, FreqScale = 0.25f });
        Kernels.Rope(b, 1, 1, 64, [10], new RopeParameters { Dimensions = 64, NeoX = true });
        for (var i = 0; i < 64; i++) Assert.Equal(b[i], a[i], 1e-4);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Attention_matches_naive_causal_softmax(bool fused)
    {
        var kernels = new ReferenceKernels(fused);
        const int heads = 4, kvHeads = 2, headDim = 16, ctx = 9, rows = 3;
        var q = RandomFloats(rows * heads * headDim, 9, 2f);
        var kf = RandomFloats(ctx * kvHeads * headDim, 10, 2f);
        var vf = RandomFloats(ctx * kvHeads * headDim, 11);
        var k = kf.Select(Fp16.FromFloat).ToArray();
        var v = vf.Select(Fp16.FromFloat).ToArray();
        int[] positions = [6, 7, 8];
        var output = new float[rows * heads * headDim];
        var scale = 1 / MathF.Sqrt(headDim);
        kernels.Attention(q, k, v, [0], 16, output, rows, heads, kvHeads, headDim, positions, scale,
            new float[kernels.AttentionScratchFloats(ctx, heads, headDim)]);
        for (var t = 0; t < rows; t++)
        {
            for (var h = 0; h < heads; h++)
            {
                var kvh = h / (heads / kvHeads);
                var n = positions[t] + 1;
                var s = new double[n];
                for (var j = 0; j < n; j++)
                {
                    for (var d = 0; d < headDim; d++) s[j] += q[(t * heads + h) * headDim + d] * Fp16.ToFloat(k[(j * kvHeads + kvh) * headDim + d]);
                    s[j] *= scale;
                }
                var p = s.Select(z => Math.Exp(z - s.Max())).ToArray();
                var sum = p.Sum();
                for (var d = 0; d < headDim; d++)
                {
                    double expected = 0;
                    for (var j = 0; j < n; j++) expected += p[j] / sum * Fp16.ToFloat(v[(j * kvHeads + kvh) * headDim + d]);
                    // F16 rounding of Q and of the probabilities (or the F16 accumulator) bounds the error near 1e-3.
                    Assert.Equal(expected, output[(t * heads + h) * headDim + d], 3e-3);
                }
            }
        }
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 4)]
    [InlineData(false, 2)]
    [InlineData(false, 8)]
    public void Attention_over_scattered_pages_equals_attention_over_a_contiguous_cache(bool fused, int blockSize)
    {
        // The same 29 positions, once contiguous and once spread over a shuffled pool of blocks: paging must change
        // where rows live, never the result (bit for bit, since the order of the sums is the same).
        var kernels = new ReferenceKernels(fused);
        const int heads = 6, kvHeads = 2, headDim = 8, ctx = 29, rows = 4, stride = kvHeads * headDim;
        var q = RandomFloats(rows * heads * headDim, 21, 2f);
        var k = RandomFloats(ctx * stride, 22, 2f).Select(Fp16.FromFloat).ToArray();
        var v = RandomFloats(ctx * stride, 23).Select(Fp16.FromFloat).ToArray();
        int[] positions = [3, 17, 27, 28];
        var scale = 1 / MathF.Sqrt(headDim);
        var scratch = new float[kernels.AttentionScratchFloats(ctx, heads, headDim)];
        var contiguous = new float[rows * heads * headDim];
        kernels.Attention(q, k, v, [0], 32, contiguous, rows, heads, kvHeads, headDim, positions, scale, scratch);

        var blocks = (ctx + blockSize - 1) / blockSize;
        var poolBlocks = blocks * 2 + 3;
        var table = Enumerable.Range(0, poolBlocks).OrderBy(i => (i * 7919) % 101).Take(blocks).ToArray();
        var poolK = new ushort[poolBlocks * blockSize * stride];
        var poolV = new ushort[poolBlocks * blockSize * stride];
        for (var p = 0; p < ctx; p++)
        {
            var row = table[p / blockSize] * blockSize + p % blockSize;
            k.AsSpan(p * stride, stride).CopyTo(poolK.AsSpan(row * stride));
            v.AsSpan(p * stride, stride).CopyTo(poolV.AsSpan(row * stride));
        }
        var paged = new float[rows * heads * headDim];
        kernels.Attention(q, poolK, poolV, table, blockSize, paged, rows, heads, kvHeads, headDim, positions, scale, scratch);
        Assert.Equal(contiguous, paged);
    }

    [Fact]
    public void Attention_rejects_a_block_outside_the_pool_and_a_position_past_the_table()
    {
        var kernels = new ReferenceKernels();
        var q = new float[16];
        var kv = new ushort[4 * 16];
        var output = new float[16];
        var scratch = new float[kernels.AttentionScratchFloats(8, 1, 16)];
        Assert.Throws<ArgumentException>(() => kernels.Attention(q, kv, kv, [0, 2], 2, output, 1, 1, 1, 16, [3], 1f, scratch));
        Assert.Throws<ArgumentException>(() => kernels.Attention(q, kv, kv, [0, 1], 2, output, 1, 1, 1, 16, [4], 1f, scratch));
        Assert.Throws<ArgumentException>(() => kernels.Attention(q, kv, kv, [0, 1], 3, output, 1, 1, 1, 16, [1], 1f, scratch));
    }

    public static TheoryData<GgmlType, int> MatMulCases() => new()
    {
        { GgmlType.F32, 5 }, { GgmlType.F32, 769 }, { GgmlType.F16, 172 }, { GgmlType.BF16, 96 },
        { GgmlType.Q8_0, 32 }, { GgmlType.Q8_0, 800 }, { GgmlType.Q4_0, 96 }, { GgmlType.Q4_1, 96 },
        { GgmlType.Q5_0, 160 }, { GgmlType.Q5_1, 160 }, { GgmlType.IQ4_NL, 64 },
        { GgmlType.Q2_K, 256 }, { GgmlType.Q3_K, 512 }, { GgmlType.Q4_K, 256 }, { GgmlType.Q5_K, 768 },
        { GgmlType.Q6_K, 512 }, { GgmlType.IQ4_XS, 256 },
    };

    /// <summary>
    /// MatMul on quantized weights equals the float dot of the dequantized weights with the activations, up to the
    /// activation quantization the reference deliberately performs (half a step of amax/127 per element for the
    /// 8-bit types, half an F16/BF16 ulp for the float types). A wrong unpacking misses by far more.
    /// </summary>
    [Theory]
    [MemberData(nameof(MatMulCases))]
    public void MatMul_matches_dequantized_dot(GgmlType type, int inFeatures)
    {
        const int outFeatures = 7, rows = 3;
        var wf = RandomFloats(outFeatures * inFeatures, 12);
        var rowBytes = (int)GgmlTypeInfo.RowBytes(type, inFeatures);
        var wq = new byte[outFeatures * rowBytes];
        for (var o = 0; o < outFeatures; o++) Quantize.Row(type, wf.AsSpan(o * inFeatures, inFeatures), wq.AsSpan(o * rowBytes, rowBytes));
        var wd = new float[wf.Length];
        for (var o = 0; o < outFeatures; o++) Dequantize.Row(type, wq.AsSpan(o * rowBytes, rowBytes), wd.AsSpan(o * inFeatures, inFeatures));
        var x = RandomFloats(rows * inFeatures, 13, 3f);
        var y = new float[rows * outFeatures];
        var handle = GCHandle.Alloc(wq, GCHandleType.Pinned);
        try
        {
            var view = new TensorView("w", type, [inFeatures, outFeatures], (byte*)handle.AddrOfPinnedObject(), wq.Length);
            Kernels.MatMul(view, x, y, rows, new byte[Kernels.MatMulScratchBytes(type, inFeatures, rows)]);
        }
        finally
        {
            handle.Free();
        }
        var block = type is GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.IQ4_XS ? 256 : 32;
        for (var t = 0; t < rows; t++)
        {
            var xr = x.AsSpan(t * inFeatures, inFeatures);
            for (var o = 0; o < outFeatures; o++)
            {
                double exact = 0, bound = 1e-4;
                for (var i = 0; i < inFeatures; i++)
                {
                    var wi = wd[o * inFeatures + i];
                    exact += (double)wi * xr[i];
                    double step = type switch
                    {
                        GgmlType.F32 => 0,
                        GgmlType.F16 => Math.Abs(xr[i]) * Math.Pow(2, -11),
                        GgmlType.BF16 => Math.Abs(xr[i]) * Math.Pow(2, -8),
                        _ => BlockMax(xr, i / block * block, Math.Min(block, inFeatures)) / 127 * 0.5 * 1.01,
                    };
                    bound += Math.Abs(wi) * step;
                }
                Assert.True(Math.Abs(exact - y[t * outFeatures + o]) <= bound,
                    $"{type} row {o}: got {y[t * outFeatures + o]}, expected {exact} ± {bound}");
            }
        }
    }

    private static double BlockMax(ReadOnlySpan<float> x, int start, int length)
    {
        var max = 0.0;
        foreach (var v in x.Slice(start, length)) max = Math.Max(max, Math.Abs(v));
        return max;
    }
}

public sealed class Half16Tests
{
    [Fact]
    public void Half16_matches_ggml_conversions_bit_for_bit()
    {
        var r = new Random(5);
        for (var i = 0; i < 200000; i++)
        {
            // Cover normal, subnormal, overflowing and exact-tie values.
            var f = i switch
            {
                < 1000 => (i - 500) * 1e-7f,
                < 2000 => (i - 1500) * 100f + 0.5f,
                _ => BitConverter.Int32BitsToSingle(r.Next()) * (r.Next(2) == 0 ? 1 : -1),
            };
            if (float.IsNaN(f)) continue;
            Assert.Equal(Flywheel.Tensors.Fp16.FromFloat(f), Flywheel.Kernels.Reference.Half16.FromFloat(f));
        }
        for (var h = 0; h < 65536; h++)
        {
            var a = Flywheel.Tensors.Fp16.ToFloat((ushort)h);
            if (float.IsNaN(a)) continue;
            Assert.Equal(a, Flywheel.Kernels.Reference.Half16.ToFloat((ushort)h));
        }
    }
}

public sealed class RopeScalingTests
{
    private static readonly Flywheel.Kernels.Reference.ReferenceKernels Kernels = new();

    [Fact]
    public void Yarn_scales_magnitude_and_keeps_high_frequencies_extrapolated()
    {
        const int d = 64;
        var rope = new RopeParameters
        {
            Dimensions = d, NeoX = true, FreqBase = 10000f, FreqScale = 0.25f, ExtFactor = 1f, OriginalContextLength = 4096,
        };
        var x = Enumerable.Repeat(1f, d).ToArray();
        var plain = x.ToArray();
        Kernels.Rope(x, 1, 1, d, [1000], rope);
        Kernels.Rope(plain, 1, 1, d, [1000], new RopeParameters { Dimensions = d, NeoX = true, FreqBase = 10000f });
        // YaRN's attention temperature: every pair's length grows by 1 + 0.1·ln(1/freq_scale).
        var mscale = 1 + 0.1 * Math.Log(4);
        for (var i = 0; i < d / 2; i++)
        {
            var length = Math.Sqrt(x[i] * x[i] + x[i + d / 2] * x[i + d / 2]);
            Assert.Equal(Math.Sqrt(2) * mscale, length, 1e-4);
        }
        // Pair 0 (the highest frequency, below the low correction dim) is extrapolated: same angle as unscaled RoPE.
        Assert.Equal(plain[0] * mscale, x[0], 1e-4);
        Assert.Equal(plain[d / 2] * mscale, x[d / 2], 1e-4);
    }

    [Fact]
    public void Freq_factors_divide_each_pair_angle()
    {
        const int d = 8;
        var factors = new[] { 1f, 2f, 4f, 8f };
        var x = Enumerable.Range(0, d).Select(i => (float)i + 1).ToArray();
        var scaled = x.ToArray();
        Kernels.Rope(scaled, 1, 1, d, [12], new RopeParameters { Dimensions = d, NeoX = false, FreqFactors = factors });
        for (var i = 0; i < d / 2; i++)
        {
            var theta = 12 * Math.Pow(10000, -2.0 * i / d) / factors[i];
            Assert.Equal(x[2 * i] * Math.Cos(theta) - x[2 * i + 1] * Math.Sin(theta), scaled[2 * i], 1e-4);
        }
    }
}
