using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Reference;

namespace Flywheel.Kernels.Cpu;

public sealed unsafe partial class CpuKernels
{
    private struct RopeJob
    {
        public float* Data;         // [rows, heads, headDim]
        public int* Positions;      // [rows]
        public float* FreqFactors;  // [dims / 2] or null
        public int Rows;
        public int Heads;
        public int HeadDim;
        public int Dims;
        public bool NeoX;
        public float ThetaScale;
        public float Corr0;
        public float Corr1;
        public float FreqScale;
        public float ExtFactor;
        public float AttnFactor;
        public int ChunkRows;
    }

    /// <summary>
    /// Bit-identical to the reference: each row's angles are built the reference's way (iterated float products, its
    /// YaRN ramp, MathF.Cos/Sin) once for all its heads, and the rotation x0·cos − x1·sin, x0·sin + x1·cos is done 8
    /// lanes at a time with the same separate products and sums (a − b is a + (−b) exactly, and sums commute). NeoX
    /// pairs are 8 contiguous elements from each half; adjacent pairs take a lane swap and a sign-alternated sine.
    /// Rows are spread over the pool.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Rope(Span<float> data, int rows, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        var dims = rope.Dimensions;
        if (dims > headDim || dims % 2 != 0) throw new ArgumentException($"rope dimensions {dims} must be even and at most the head size {headDim}");
        if (data.Length < (long)rows * heads * headDim) throw new ArgumentException($"rope data holds {data.Length} floats, need {rows}×{heads}×{headDim}");
        if (positions.Length < rows) throw new ArgumentException("one position per row is needed");
        if (rope.FreqFactors is { } f && f.Length < dims / 2) throw new ArgumentException($"rope needs {dims / 2} frequency factors, got {f.Length}");
        if (rows == 0 || dims == 0) return;
        Span<float> corr = stackalloc float[2];
        ReferenceKernels.YarnCorrectionDims(dims, rope.OriginalContextLength, rope.FreqBase, rope.BetaFast, rope.BetaSlow, corr);
        fixed (float* x = data)
        fixed (int* p = positions)
        fixed (float* ff = rope.FreqFactors)
        {
            var job = new RopeJob
            {
                Data = x, Positions = p, FreqFactors = ff, Rows = rows, Heads = heads, HeadDim = headDim, Dims = dims, NeoX = rope.NeoX,
                ThetaScale = MathF.Pow(rope.FreqBase, -2f / dims), Corr0 = corr[0], Corr1 = corr[1], FreqScale = rope.FreqScale,
                ExtFactor = rope.ExtFactor, AttnFactor = rope.AttnFactor,
            };
            // A decode step's few rows are not worth waking the pool for.
            if ((long)rows * heads * dims < 16384)
            {
                job.ChunkRows = rows;
                RopeChunk(&job, 0);
                return;
            }
            job.ChunkRows = Math.Max(1, (rows + _pool.Threads * 4 - 1) / (_pool.Threads * 4));
            _pool.Run(&RopeChunk, &job, (rows + job.ChunkRows - 1) / job.ChunkRows);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RopeChunk(void* context, int chunk)
    {
        ref var job = ref *(RopeJob*)context;
        var dims = job.Dims;
        var half = dims / 2;
        // NeoX: cos [half], sin [half]. Adjacent pairs: cos duplicated [dims], sine as (−s, s) per pair [dims].
        var table = stackalloc float[2 * dims];
        Span<float> corr = stackalloc float[2];
        corr[0] = job.Corr0;
        corr[1] = job.Corr1;
        var end = Math.Min(job.Rows, (chunk + 1) * job.ChunkRows);
        for (var t = chunk * job.ChunkRows; t < end; t++)
        {
            var theta = (float)job.Positions[t];
            for (var i = 0; i < half; i++)
            {
                var ff = job.FreqFactors != null ? job.FreqFactors[i] : 1f;
                ReferenceKernels.RopeYarn(theta / ff, job.FreqScale, corr, 2 * i, job.ExtFactor, job.AttnFactor, out var c, out var s);
                if (job.NeoX)
                {
                    table[i] = c;
                    table[half + i] = s;
                }
                else
                {
                    table[2 * i] = c;
                    table[2 * i + 1] = c;
                    table[dims + 2 * i] = -s;
                    table[dims + 2 * i + 1] = s;
                }
                theta *= job.ThetaScale;
            }
            for (var h = 0; h < job.Heads; h++)
            {
                var x = job.Data + ((long)t * job.Heads + h) * job.HeadDim;
                if (job.NeoX) RotateHalves(x, table, table + half, half);
                else RotatePairs(x, table, table + dims, dims);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RotateHalves(float* x, float* cos, float* sin, int half)
    {
        var y = x + half;
        var i = 0;
        for (; i + 8 <= half; i += 8)
        {
            var x0 = Vector256.Load(x + i);
            var x1 = Vector256.Load(y + i);
            var c = Vector256.Load(cos + i);
            var s = Vector256.Load(sin + i);
            (x0 * c - x1 * s).Store(x + i);
            (x0 * s + x1 * c).Store(y + i);
        }
        for (; i < half; i++)
        {
            var x0 = x[i];
            var x1 = y[i];
            x[i] = x0 * cos[i] - x1 * sin[i];
            y[i] = x0 * sin[i] + x1 * cos[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RotatePairs(float* x, float* cosPairs, float* signedSin, int dims)
    {
        var i = 0;
        for (; i + 8 <= dims; i += 8)
        {
            var v = Vector256.Load(x + i);
            var swapped = Avx.Permute(v, 0b10_11_00_01); // (x1, x0) in every pair
            (v * Vector256.Load(cosPairs + i) + swapped * Vector256.Load(signedSin + i)).Store(x + i);
        }
        for (; i < dims; i += 2)
        {
            var x0 = x[i];
            var x1 = x[i + 1];
            var c = cosPairs[i];
            var s = signedSin[i + 1];
            x[i] = x0 * c - x1 * s;
            x[i + 1] = x0 * s + x1 * c;
        }
    }
}
