using Flywheel.Kernels.Cpu;
using Flywheel.Tensors;
using Xunit.Abstractions;
using static Flywheel.Kernels.Tests.TestData;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>
/// Q4_K, Q5_K and Q6_K weights prepared at load (<see cref="PackedKMatMul"/>) against the reference on the file's bytes, for
/// the row counts of a decode step (1), small batches and prompt tiles (2..17, 70), output counts that leave a partial
/// group of eight, and row lengths from one super-block to 5120.
/// </summary>
public sealed unsafe class PackedKMatMulTests(ITestOutputHelper output)
{
    /// <summary>Exact per-super-block integer sums combined in the reference's float order: identical.</summary>
    public const float Tolerance = 0f;

    private static readonly GgmlType[] Packed = [GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];

    public static TheoryData<string, GgmlType, int, int, int> Cases()
    {
        var data = new TheoryData<string, GgmlType, int, int, int>();
        int[] rowCounts = [1, 2, 3, 7, 8, 9, 17, 70, 4];
        int[] outCounts = [1, 7, 9, 17, 769, 8, 16, 130];
        int[] lengths = [256, 512, 768, 1280, 4864, 5120];
        foreach (var set in KernelSetParity.Names)
        {
            foreach (var type in Packed)
            {
                var i = 0;
                foreach (var n in lengths)
                {
                    for (var k = 0; k < 4; k++, i++)
                    {
                        data.Add(set, type, n, rowCounts[i % rowCounts.Length], outCounts[(i * 3 + k) % outCounts.Length]);
                    }
                }
            }
        }
        return data;
    }

    private static byte[] QuantizedWeight(GgmlType type, int inFeatures, int outFeatures)
    {
        var rowBytes = (int)GgmlTypeInfo.RowBytes(type, inFeatures);
        var wf = RandomFloats(inFeatures * outFeatures, 5 + inFeatures + outFeatures);
        // Rows of very different magnitudes, so scales and mins span their ranges (and Q6_K's scales both signs).
        for (var o = 0; o < outFeatures; o++)
        {
            var m = (o % 5) switch { 0 => 1f, 1 => 1e-3f, 2 => 30f, 3 => 0.2f, _ => 4f };
            for (var i = 0; i < inFeatures; i++) wf[o * inFeatures + i] = wf[o * inFeatures + i] * m + (o % 3 == 0 ? 0.5f * m : 0f);
        }
        var wq = new byte[rowBytes * outFeatures];
        for (var o = 0; o < outFeatures; o++) Quantize.Row(type, wf.AsSpan(o * inFeatures, inFeatures), wq.AsSpan(o * rowBytes, rowBytes));
        return wq;
    }

    [AcceleratedTheory]
    [MemberData(nameof(Cases))]
    public void Prepared_weights_match_the_reference_bit_for_bit(string set, GgmlType type, int inFeatures, int rows, int outFeatures)
    {
        var kernels = KernelSetParity.Get(set);
        var wq = QuantizedWeight(type, inFeatures, outFeatures);
        // Activations with an outlier, a negative extreme and an all-zero row (the quantizer's special cases).
        var x = RandomFloats(rows * inFeatures, 3 + rows, 3f);
        x[0] = 40f;
        if (rows > 1) x[inFeatures + 1] = -90f;
        if (rows > 2) x.AsSpan(2 * inFeatures, inFeatures).Clear();
        var expected = new float[rows * outFeatures];
        var actual = new float[rows * outFeatures];
        fixed (byte* w = wq)
        {
            var view = new TensorView("w", type, [inFeatures, outFeatures], w, wq.Length);
            var prepared = kernels.PrepareWeight(view);
            Assert.NotNull(prepared.Packed);
            Assert.Same(PackedKMatMul.Layout, prepared.Packed!.Layout);
            Assert.False(prepared.Packed.SourceStillRead);
            try
            {
                KernelSets.Reference.MatMul(view, x, expected, rows, new byte[KernelSets.Reference.MatMulScratchBytes(type, inFeatures, rows)]);
                kernels.MatMul(prepared, x, actual, rows, new byte[kernels.MatMulScratchBytes(type, inFeatures, rows)]);
            }
            finally
            {
                prepared.Packed.Dispose();
            }
        }
        var maxDiff = 0f;
        var mismatches = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            maxDiff = MathF.Max(maxDiff, MathF.Abs(expected[i] - actual[i]));
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i])) mismatches++;
        }
        output.WriteLine($"{set} {GgmlTypeInfo.Name(type)} {rows}×{inFeatures} · {outFeatures}: max |Δ| = {maxDiff}, {mismatches} differing bit patterns");
        Assert.True(maxDiff <= Tolerance, $"max difference {maxDiff} exceeds {Tolerance}");
        Assert.Equal(0, mismatches);
    }

    [AcceleratedFact]
    public void Preparing_twice_packs_once()
    {
        var kernels = KernelSetParity.Get("avx2");
        var wq = QuantizedWeight(GgmlType.Q4_K, 256, 2);
        fixed (byte* w = wq)
        {
            var view = new TensorView("w", GgmlType.Q4_K, [256, 2], w, wq.Length);
            var prepared = kernels.PrepareWeight(view);
            using var packed = prepared.Packed!;
            Assert.True(prepared.Data == view.Data); // row lookups and other sets keep reading the file's bytes
            Assert.Same(prepared, kernels.PrepareWeight(prepared));
        }
    }

    [AcceleratedFact]
    public void A_disposed_packing_is_refused_with_a_clear_error()
    {
        var kernels = KernelSetParity.Get("avx2");
        var wq = QuantizedWeight(GgmlType.Q6_K, 256, 8);
        fixed (byte* w = wq)
        {
            var prepared = kernels.PrepareWeight(new TensorView("w", GgmlType.Q6_K, [256, 8], w, wq.Length));
            prepared.Packed!.Dispose();
            var e = Assert.Throws<ObjectDisposedException>(() =>
                kernels.MatMul(prepared, new float[256], new float[8], 1, new byte[kernels.MatMulScratchBytes(GgmlType.Q6_K, 256, 1)]));
            Assert.Contains("w", e.Message);
        }
    }
}
