using System.Runtime.InteropServices;
using Flywheel.Kernels.Cpu;
using Flywheel.Tensors;
using Xunit.Abstractions;
using static Flywheel.Kernels.Tests.TestData;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>
/// Every accelerated kernel set against the reference (DESIGN.md habit 3) at awkward sizes: row lengths from one
/// block up to 5120 (256·3 included), odd row and output counts, and 769 / 5125 elements where the op allows.
/// </summary>
public sealed unsafe class CpuKernelsTests(ITestOutputHelper output)
{
    /// <summary>
    /// Quantized matmuls except the tiled type-0 path: the SIMD block dot products are exact integers and the blocks
    /// (K-quant super-blocks) are combined in the reference's float order, so results are bit-identical.
    /// Unaccelerated types run the reference dot product and are identical too.
    /// </summary>
    public const float MatMulTolerance = 0f;

    /// <summary>
    /// Q8_0/Q4_0/Q5_0 matmuls of 4 or more rows (the tiled prompt path): block dot products stay exact, but the float
    /// sum over blocks runs in 8 lanes; the error allowed is this fraction of the largest |output| of the case.
    /// </summary>
    public const float TiledMatMulRelativeTolerance = 1e-5f;

    /// <summary>
    /// F32/F16/BF16 weights: activations rounded to the weight's type exactly as the reference does, products exact,
    /// but summed in 8 float lanes where the reference sums in double; this fraction of the largest |output| of the case.
    /// </summary>
    public const float FloatMatMulRelativeTolerance = 1e-5f;

    /// <summary>RMSNorm: squares summed in four double lanes instead of one chain; relative error of the output.</summary>
    public const float RmsNormRelativeTolerance = 1e-6f;

    /// <summary>SwiGlu and softmax use a vectorized exp (a few ulp from MathF.Exp); relative error per element.</summary>
    public const float ExpRelativeTolerance = 4e-6f;

    private static readonly GgmlType[] Accelerated = [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];
    private static readonly GgmlType[] Floats = [GgmlType.F32, GgmlType.F16, GgmlType.BF16];
    private static readonly GgmlType[] Delegated = [GgmlType.Q4_1, GgmlType.Q5_1,
        GgmlType.IQ4_NL, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.IQ4_XS];

    public static TheoryData<string, GgmlType, int, int, int> MatMulCases() => MatMulCasesFor(KernelSetParity.Names);

    public static TheoryData<string, GgmlType, int, int, int> VnniMatMulCases() => MatMulCasesFor(KernelSetParity.VnniNames);

    private static TheoryData<string, GgmlType, int, int, int> MatMulCasesFor(IEnumerable<string> sets)
    {
        var data = new TheoryData<string, GgmlType, int, int, int>();
        // 4+ rows take the tiled path: 4 and 8 fill tiles exactly, 5 and 17 leave a partial tile, 70 crosses a
        // 64-row column block.
        int[] rowCounts = [1, 2, 3, 4, 5, 17, 8, 70];
        int[] outCounts = [1, 13, 67, 129, 4];
        foreach (var set in sets)
        {
            foreach (var type in Accelerated.Concat(Floats).Concat(Delegated))
            {
                var block = GgmlTypeInfo.Get(type).BlockSize;
                int[] lengths = block == 256 ? [256, 512, 768, 2048, 5120] : block == 32 ? [32, 64, 96, 160, 768, 896, 5120] : [1, 17, 768, 769, 5125];
                var i = 0;
                foreach (var n in lengths)
                {
                    // Walk rows and outputs with the lengths so every length meets several shapes without a full product.
                    for (var k = 0; k < 2; k++, i++)
                    {
                        data.Add(set, type, n, rowCounts[i % rowCounts.Length], outCounts[(i * 3 + k) % outCounts.Length]);
                    }
                }
            }
        }
        return data;
    }

    [AcceleratedTheory]
    [MemberData(nameof(MatMulCases))]
    public void MatMul_matches_reference(string set, GgmlType type, int inFeatures, int rows, int outFeatures) =>
        CheckMatMul(set, type, inFeatures, rows, outFeatures);

    [VnniTheory]
    [MemberData(nameof(VnniMatMulCases))]
    public void MatMul_matches_reference_with_vnni(string set, GgmlType type, int inFeatures, int rows, int outFeatures) =>
        CheckMatMul(set, type, inFeatures, rows, outFeatures);

    private void CheckMatMul(string set, GgmlType type, int inFeatures, int rows, int outFeatures)
    {
        var kernels = KernelSetParity.Get(set);
        var rowBytes = (int)GgmlTypeInfo.RowBytes(type, inFeatures);
        var wf = RandomFloats(inFeatures * outFeatures, 11 + inFeatures + outFeatures);
        var wq = new byte[rowBytes * outFeatures];
        for (var o = 0; o < outFeatures; o++)
        {
            Quantize.Row(type, wf.AsSpan(o * inFeatures, inFeatures), wq.AsSpan(o * rowBytes, rowBytes));
        }
        // Activations with outliers and an all-zero row, the cases the activation quantizers special-case.
        var x = RandomFloats(rows * inFeatures, 7 + rows, 3f);
        x[0] = 40f;
        if (rows > 2) x.AsSpan(inFeatures, inFeatures).Clear();
        var expected = new float[rows * outFeatures];
        var actual = new float[rows * outFeatures];
        var handle = GCHandle.Alloc(wq, GCHandleType.Pinned);
        try
        {
            var view = new TensorView("w", type, [inFeatures, outFeatures], (byte*)handle.AddrOfPinnedObject(), wq.Length);
            KernelSets.Reference.MatMul(view, x, expected, rows, new byte[KernelSets.Reference.MatMulScratchBytes(type, inFeatures, rows)]);
            kernels.MatMul(view, x, actual, rows, new byte[kernels.MatMulScratchBytes(type, inFeatures, rows)]);
        }
        finally
        {
            handle.Free();
        }
        var maxDiff = 0f;
        var maxAbs = 0f;
        for (var i = 0; i < expected.Length; i++)
        {
            maxDiff = MathF.Max(maxDiff, MathF.Abs(expected[i] - actual[i]));
            maxAbs = MathF.Max(maxAbs, MathF.Abs(expected[i]));
        }
        var tiled = rows >= TiledMatMul.MinRows && type is GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q5_0;
        var limit = tiled ? TiledMatMulRelativeTolerance * maxAbs
            : type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 ? FloatMatMulRelativeTolerance * maxAbs : MatMulTolerance;
        output.WriteLine($"{set} {GgmlTypeInfo.Name(type)} {rows}×{inFeatures} · {outFeatures}: max |Δ| = {maxDiff} (max |y| {maxAbs})");
        Assert.True(maxDiff <= limit, $"max difference {maxDiff} exceeds {limit}");
    }

    public static TheoryData<string, int> ElementwiseCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var set in KernelSetParity.Names)
        {
            foreach (var n in (int[])[1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 255, 256, 257, 768, 769, 896, 5120, 5125])
            {
                data.Add(set, n);
            }
        }
        return data;
    }

    private static void AssertRelative(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            var e = expected[i];
            var limit = tolerance * MathF.Max(MathF.Abs(e), 1e-30f);
            Assert.True(MathF.Abs(e - actual[i]) <= limit, $"{what}[{i}]: expected {e}, got {actual[i]}");
        }
    }

    public static TheoryData<string, int, int> ManyRowNormCases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var set in KernelSetParity.Names)
        {
            foreach (var (rows, width) in new[] { (36, 896), (37, 1000), (512, 896), (9, 4097) }) data.Add(set, rows, width);
        }
        return data;
    }

    /// <summary>A prompt's rows are spread over the pool: each must come out as it does alone.</summary>
    [AcceleratedTheory]
    [MemberData(nameof(ManyRowNormCases))]
    public void RmsNorm_over_many_rows_matches_row_by_row(string set, int rows, int width)
    {
        var kernels = KernelSetParity.Get(set);
        var x = RandomFloats(rows * width, rows + width, 5f);
        var w = RandomFloats(width, width + 3);
        var alone = new float[x.Length];
        for (var r = 0; r < rows; r++) kernels.RmsNorm(x.AsSpan(r * width, width), w, alone.AsSpan(r * width, width), width, 1e-6f);
        var together = new float[x.Length];
        kernels.RmsNorm(x, w, together, width, 1e-6f);
        Assert.Equal(alone, together);
        var expected = new float[x.Length];
        KernelSets.Reference.RmsNorm(x, w, expected, width, 1e-6f);
        AssertRelative(expected, together, RmsNormRelativeTolerance, "rmsnorm");
    }

    [AcceleratedTheory]
    [MemberData(nameof(ElementwiseCases))]
    public void RmsNorm_matches_reference(string set, int width)
    {
        var kernels = KernelSetParity.Get(set);
        var x = RandomFloats(width * 3, width, 5f);
        var w = RandomFloats(width, width + 1);
        var expected = new float[x.Length];
        var actual = new float[x.Length];
        KernelSets.Reference.RmsNorm(x, w, expected, width, 1e-6f);
        kernels.RmsNorm(x, w, actual, width, 1e-6f);
        AssertRelative(expected, actual, RmsNormRelativeTolerance, "rmsnorm");
        kernels.RmsNorm(x, w, x, width, 1e-6f); // in place
        AssertRelative(expected, x, RmsNormRelativeTolerance, "rmsnorm in place");
    }

    /// <summary>Sizes a batched decode step's and a prompt's SwiGlu reach, which the set spreads over its pool (the last
    /// chunk ends mid-vector for the odd ones; 16383 stays on the calling thread).</summary>
    public static TheoryData<string, int> LargeElementwiseCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var set in KernelSetParity.Names)
        {
            foreach (var n in (int[])[16383, 16384, 8 * 4864 + 1, 65535, 65536, 70001, 512 * 4864 + 3]) data.Add(set, n);
        }
        return data;
    }

    [AcceleratedTheory]
    [MemberData(nameof(ElementwiseCases))]
    [MemberData(nameof(LargeElementwiseCases))]
    public void SwiGlu_matches_reference(string set, int n)
    {
        var kernels = KernelSetParity.Get(set);
        var g = RandomFloats(n, n + 2, 12f);
        var u = RandomFloats(n, n + 3, 3f);
        var expected = new float[n];
        KernelSets.Reference.SwiGlu(g, u, expected);
        kernels.SwiGlu(g, u, g); // output aliases gate
        AssertRelative(expected, g, ExpRelativeTolerance, "swiglu");
    }

    [AcceleratedTheory]
    [MemberData(nameof(ElementwiseCases))]
    public void Softmax_matches_reference(string set, int n)
    {
        var kernels = KernelSetParity.Get(set);
        var x = RandomFloats(n, n + 4, 30f);
        var expected = x.ToArray();
        KernelSets.Reference.Softmax(expected);
        kernels.Softmax(x);
        AssertRelative(expected, x, ExpRelativeTolerance, "softmax");
    }

    [AcceleratedFact]
    public void Default_is_the_cpu_set_unless_reference_is_forced()
    {
        Assert.Equal("reference", KernelSets.Choose("reference").Name);
        var best = CpuKernels.Avx512VnniSupported ? "avx512-vnni" : CpuKernels.VnniSupported ? "avx-vnni" : CpuKernels.Avx512Supported ? "avx512" : "avx2";
        Assert.Equal(best, KernelSets.Choose(null).Name);
        Assert.Equal(best, KernelSets.Choose("avx512").Name);
        Assert.Equal("avx2", KernelSets.Choose("avx2").Name);
        Assert.Equal(CpuKernels.Avx512Supported ? "avx512" : "avx2", KernelSets.Choose("avx512-novnni").Name);
        Assert.True(CpuKernels.IsAccelerated(KernelOp.MatMul, GgmlType.Q4_K));
        Assert.False(CpuKernels.IsAccelerated(KernelOp.MatMul, GgmlType.IQ4_XS));
    }

    [AcceleratedFact]
    public void Create_makes_a_set_of_the_named_kind_with_the_thread_count()
    {
        using var avx2 = Assert.IsType<CpuKernels>(KernelSets.Create("avx2", 3));
        Assert.Equal("avx2", avx2.Name);
        Assert.Equal(3, avx2.Threads);
        using var best = Assert.IsType<CpuKernels>(KernelSets.Create("avx512", 1));
        Assert.Equal(CpuKernels.Avx512VnniSupported ? "avx512-vnni" : CpuKernels.VnniSupported ? "avx-vnni" : CpuKernels.Avx512Supported ? "avx512" : "avx2", best.Name);
        Assert.Equal(CpuKernels.Avx512Supported, best.UsesAvx512);
        Assert.False(avx2.UsesAvx512);
        Assert.Equal(1, best.Threads);
        Assert.Same(KernelSets.Reference, KernelSets.Create("reference", 2));
        Assert.InRange(KernelSets.ThreadCount, 1, Environment.ProcessorCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelSets.SetThreads(0));
    }
}
