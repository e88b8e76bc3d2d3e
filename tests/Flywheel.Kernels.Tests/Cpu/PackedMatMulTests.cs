using System.Runtime.InteropServices;
using Flywheel.Kernels.Cpu;
using Flywheel.Tensors;
using Xunit.Abstractions;
using static Flywheel.Kernels.Tests.TestData;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>
/// Weights prepared at load (<see cref="IKernelSet.PrepareWeight"/>) against the reference on the file's bytes, for the
/// row counts of a decode step (1), small decode batches (2..15) and prompts (16, 17, 70), at awkward sizes: output
/// counts that leave a partial group of eight or sixteen (the "avx512" sets' groups), row counts around the tiles of
/// four and eight, row lengths from one block to 5120.
/// </summary>
public sealed unsafe class PackedMatMulTests(ITestOutputHelper output)
{
    /// <summary>Packed type-0 matmuls combine the exact block dot products in the reference's float order: identical.</summary>
    public const float PackedMatMulTolerance = 0f;

    private static readonly GgmlType[] Packed = [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0];

    public static TheoryData<string, GgmlType, int, int, int> Cases()
    {
        var data = new TheoryData<string, GgmlType, int, int, int>();
        int[] rowCounts = [1, 2, 3, 7, 8, 9, 15, 16, 17, 70, 5, 6, 4];
        int[] outCounts = [1, 7, 13, 15, 17, 33, 67, 129, 256, 769, 8, 16];
        int[] lengths = [32, 64, 96, 160, 768, 896, 4864, 5120];
        foreach (var set in KernelSetParity.Names)
        {
            foreach (var type in Packed)
            {
                var i = 0;
                foreach (var n in lengths)
                {
                    for (var k = 0; k < 6; k++, i++)
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
        var wq = new byte[rowBytes * outFeatures];
        for (var o = 0; o < outFeatures; o++) Quantize.Row(type, wf.AsSpan(o * inFeatures, inFeatures), wq.AsSpan(o * rowBytes, rowBytes));
        return wq;
    }

    [AcceleratedTheory]
    [MemberData(nameof(Cases))]
    public void Prepared_weights_match_the_reference(string set, GgmlType type, int inFeatures, int rows, int outFeatures)
    {
        var kernels = KernelSetParity.Get(set);
        var wq = QuantizedWeight(type, inFeatures, outFeatures);
        // Activations with an outlier and an all-zero row, the cases the activation quantizer special-cases.
        var x = RandomFloats(rows * inFeatures, 3 + rows, 3f);
        x[0] = 40f;
        if (rows > 2) x.AsSpan(inFeatures, inFeatures).Clear();
        var expected = new float[rows * outFeatures];
        var actual = new float[rows * outFeatures];
        fixed (byte* w = wq)
        {
            var view = new TensorView("w", type, [inFeatures, outFeatures], w, wq.Length);
            var prepared = kernels.PrepareWeight(view);
            Assert.NotNull(prepared.Packed);
            Assert.Same(set.StartsWith("avx512", StringComparison.Ordinal) ? PackedMatMul512.LayoutOf(type, set.StartsWith("avx512-vnni", StringComparison.Ordinal)) : PackedMatMul.Layout, prepared.Packed!.Layout);
            try
            {
                KernelSets.Reference.MatMul(view, x, expected, rows, new byte[KernelSets.Reference.MatMulScratchBytes(type, inFeatures, rows)]);
                kernels.MatMul(prepared, x, actual, rows, new byte[kernels.MatMulScratchBytes(type, inFeatures, rows)]);
            }
            finally
            {
                prepared.Packed!.Dispose();
            }
        }
        var maxDiff = 0f;
        for (var i = 0; i < expected.Length; i++) maxDiff = MathF.Max(maxDiff, MathF.Abs(expected[i] - actual[i]));
        output.WriteLine($"{set} {GgmlTypeInfo.Name(type)} {rows}×{inFeatures} · {outFeatures}: max |Δ| = {maxDiff}");
        Assert.True(maxDiff <= PackedMatMulTolerance, $"max difference {maxDiff} exceeds {PackedMatMulTolerance}");
    }

    [AcceleratedFact]
    public void A_packing_says_whether_the_set_still_reads_the_file_bytes()
    {
        // Model.Load gives back the file pages only when the copy replaces them; on the avx2 set a single Q8_0 row
        // still takes the row-at-a-time path over the file's bytes.
        const int n = 64, rows = 9;
        foreach (var set in KernelSetParity.Names.Where(name => !name.EndsWith("-1t", StringComparison.Ordinal)))
        {
            var kernels = KernelSetParity.Get(set);
            foreach (var type in Packed)
            {
                var wq = QuantizedWeight(type, n, rows);
                fixed (byte* w = wq)
                {
                    using var packed = kernels.PrepareWeight(new TensorView("w", type, [n, rows], w, wq.Length)).Packed!;
                    // The 512-bit layout takes single rows too, so it replaces the file bytes for every type.
                    Assert.Equal(type == GgmlType.Q8_0 && set == "avx2", packed.SourceStillRead);
                }
            }
        }
    }

    [AcceleratedFact]
    public void A_prepared_view_keeps_the_file_bytes_for_row_lookups_and_other_sets()
    {
        var kernels = KernelSetParity.Get("avx2");
        const int n = 96, rows = 21;
        var wq = QuantizedWeight(GgmlType.Q8_0, n, rows);
        fixed (byte* w = wq)
        {
            var view = new TensorView("w", GgmlType.Q8_0, [n, rows], w, wq.Length);
            Assert.Same(view, KernelSets.Reference.PrepareWeight(view));
            var prepared = kernels.PrepareWeight(view);
            using var packed = prepared.Packed!;
            Assert.True(prepared.Data == view.Data);
            Assert.Same(prepared, kernels.PrepareWeight(prepared)); // preparing twice packs once
            var expected = new float[n];
            var actual = new float[n];
            KernelSets.Reference.GetRow(view, 20, expected);
            kernels.GetRow(prepared, 20, actual);
            Assert.Equal(expected, actual);
            // The reference set ignores the packing and multiplies the original bytes.
            var x = RandomFloats(n, 1);
            var y0 = new float[rows];
            var y1 = new float[rows];
            KernelSets.Reference.MatMul(view, x, y0, 1, new byte[KernelSets.Reference.MatMulScratchBytes(GgmlType.Q8_0, n, 1)]);
            KernelSets.Reference.MatMul(prepared, x, y1, 1, new byte[KernelSets.Reference.MatMulScratchBytes(GgmlType.Q8_0, n, 1)]);
            Assert.Equal(y0, y1);
        }
    }

    [AcceleratedFact]
    public void Types_without_a_packed_layout_come_back_unchanged()
    {
        var kernels = KernelSetParity.Get("avx2");
        var wq = QuantizedWeight(GgmlType.Q3_K, 256, 4);
        fixed (byte* w = wq)
        {
            var view = new TensorView("w", GgmlType.Q3_K, [256, 4], w, wq.Length);
            Assert.Same(view, kernels.PrepareWeight(view));
        }
    }

    [AcceleratedFact]
    public void A_disposed_packing_is_refused_with_a_clear_error()
    {
        var kernels = KernelSetParity.Get("avx2");
        var wq = QuantizedWeight(GgmlType.Q4_0, 64, 8);
        fixed (byte* w = wq)
        {
            var prepared = kernels.PrepareWeight(new TensorView("w", GgmlType.Q4_0, [64, 8], w, wq.Length));
            prepared.Packed!.Dispose();
            var e = Assert.Throws<ObjectDisposedException>(() =>
                kernels.MatMul(prepared, new float[64], new float[8], 1, new byte[kernels.MatMulScratchBytes(GgmlType.Q4_0, 64, 1)]));
            Assert.Contains("w", e.Message);
        }
    }
}
