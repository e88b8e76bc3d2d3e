using System.Runtime.InteropServices;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>The profiling wrapper changes nothing it forwards: results, and the weights a set repacks at load.</summary>
public sealed unsafe class TimedKernelsTests
{
    [AcceleratedFact]
    public void Forwards_weight_preparation_and_matmul_results_and_counts_the_calls()
    {
        var inner = KernelSetParity.Get("avx2");
        var timed = new TimedKernels(inner);
        const int n = 64, outs = 16, rows = 3;
        var r = new Random(3);
        var wf = new float[n * outs];
        for (var i = 0; i < wf.Length; i++) wf[i] = (float)(r.NextDouble() * 2 - 1);
        var rowBytes = (int)GgmlTypeInfo.RowBytes(GgmlType.Q8_0, n);
        var wq = new byte[rowBytes * outs];
        for (var o = 0; o < outs; o++) Quantize.Row(GgmlType.Q8_0, wf.AsSpan(o * n, n), wq.AsSpan(o * rowBytes, rowBytes));
        var x = new float[rows * n];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(r.NextDouble() * 2 - 1);
        var handle = GCHandle.Alloc(wq, GCHandleType.Pinned);
        TensorView? direct = null, wrapped = null;
        try
        {
            var view = new TensorView("w", GgmlType.Q8_0, [n, outs], (byte*)handle.AddrOfPinnedObject(), wq.Length);
            direct = inner.PrepareWeight(view);
            wrapped = timed.PrepareWeight(view);
            Assert.Equal(direct.Packed is null, wrapped.Packed is null);
            var expected = new float[rows * outs];
            var actual = new float[rows * outs];
            inner.MatMul(direct, x, expected, rows, new byte[inner.MatMulScratchBytes(GgmlType.Q8_0, n, rows)]);
            timed.MatMul(wrapped, x, actual, rows, new byte[timed.MatMulScratchBytes(GgmlType.Q8_0, n, rows)]);
            Assert.Equal(expected, actual);
        }
        finally
        {
            direct?.Packed?.Dispose();
            wrapped?.Packed?.Dispose();
            handle.Free();
        }
        Assert.Matches(@"MatMul Q8_0\s+[0-9.]+ ms\s+[0-9.]+%\s+1 calls", timed.Report(TimeSpan.FromSeconds(1)));
    }

    [AcceleratedFact]
    public void Forwards_decode_attention_and_counts_it_as_attention()
    {
        var inner = KernelSetParity.Get("avx2");
        var timed = new TimedKernels(inner);
        const int heads = 4, kvHeads = 2, headDim = 16, rows = 2, blocks = 3, blockSize = 4;
        var r = new Random(4);
        var q = new float[rows * heads * headDim];
        for (var i = 0; i < q.Length; i++) q[i] = (float)(r.NextDouble() * 2 - 1);
        var kv = new ushort[blocks * blockSize * kvHeads * headDim];
        for (var i = 0; i < kv.Length; i++) kv[i] = BitConverter.HalfToUInt16Bits((Half)(r.NextDouble() * 2 - 1));
        int[] tables = [2, 0, 1];
        int[] starts = [0, 2];
        int[] lengths = [2, 1];
        int[] positions = [6, 3];
        var scratch = new float[inner.AttentionScratchFloats(16, heads, headDim)];
        var expected = new float[q.Length];
        var actual = new float[q.Length];
        inner.DecodeAttention(q, kv, kv, tables, starts, lengths, blockSize, expected, rows, heads, kvHeads, headDim, positions, 0.25f, scratch);
        timed.DecodeAttention(q, kv, kv, tables, starts, lengths, blockSize, actual, rows, heads, kvHeads, headDim, positions, 0.25f, scratch);
        Assert.Equal(expected, actual);
        Assert.Matches(@"Attention\s+[0-9.]+ ms\s+[0-9.]+%\s+1 calls", timed.Report(TimeSpan.FromSeconds(1)));
    }
}
