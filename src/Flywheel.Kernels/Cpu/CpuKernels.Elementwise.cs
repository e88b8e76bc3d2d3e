using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Flywheel.Kernels.Cpu;

public sealed unsafe partial class CpuKernels
{
    private struct RmsNormJob
    {
        public float* Input;
        public float* Weight;
        public float* Output;
        public int Width;
        public int Rows;
        public int RowsPerChunk;
        public float Epsilon;
        public bool Wide;
    }

    // Elements from which a norm's rows are spread over the pool: a prompt's (512 × 896 took ~0.5 ms on one thread,
    // 2.5 % of a Q4_0 pp512); a batched decode step's eight rows stay on the calling thread.
    private const int RmsNormSplit = 32768;

    /// <summary>
    /// As the reference (ggml_compute_forward_rms_norm_f32): float squares summed in double, here in four double
    /// lanes per accumulator instead of one chain, so the mean may differ from the reference's in its last double
    /// bits (and, rarely, in the float it narrows to). Rows are independent, so spreading them over the pool changes
    /// no bits.
    /// </summary>
    public void RmsNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, Span<float> output, int width, float epsilon)
    {
        if (weight.Length != width) throw new ArgumentException($"norm weight has {weight.Length} values, rows have {width}");
        var rows = input.Length / width;
        fixed (float* xs = input)
        fixed (float* ws = weight)
        fixed (float* ys = output)
        {
            var job = new RmsNormJob
            {
                Input = xs, Weight = ws, Output = ys, Width = width, Rows = rows, RowsPerChunk = RowsPerChunk(rows, width, RmsNormSplit),
                Epsilon = epsilon, Wide = _avx512,
            };
            RunChunks(&RmsNormChunk, &job, rows, job.RowsPerChunk);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RmsNormChunk(void* context, int chunk)
    {
        ref var job = ref *(RmsNormJob*)context;
        var width = job.Width;
        var ws = job.Weight;
        var end = Math.Min(job.Rows, (chunk + 1) * job.RowsPerChunk);
        for (var r = chunk * job.RowsPerChunk; r < end; r++)
        {
            var x = job.Input + (long)r * width;
            var y = job.Output + (long)r * width;
            var i = 0;
            double sum;
            if (job.Wide)
            {
                var wide0 = Vector512<double>.Zero;
                var wide1 = Vector512<double>.Zero;
                for (; i + 16 <= width; i += 16)
                {
                    var v = Vector512.Load(x + i);
                    var (lo, hi) = Vector512.Widen(v * v);
                    wide0 += lo;
                    wide1 += hi;
                }
                sum = Vector512.Sum(wide0 + wide1);
            }
            else
            {
                var acc0 = Vector256<double>.Zero;
                var acc1 = Vector256<double>.Zero;
                for (; i + 8 <= width; i += 8)
                {
                    var v = Vector256.Load(x + i);
                    var (lo, hi) = Vector256.Widen(v * v);
                    acc0 += lo;
                    acc1 += hi;
                }
                sum = Vector256.Sum(acc0 + acc1);
            }
            for (; i < width; i++) sum += x[i] * x[i];
            var mean = (float)(sum / width);
            var scale = 1f / MathF.Sqrt(mean + job.Epsilon);
            i = 0;
            if (job.Wide)
            {
                var vs = Vector512.Create(scale);
                for (; i + 16 <= width; i += 16) (Vector512.Load(x + i) * vs * Vector512.Load(ws + i)).Store(y + i);
            }
            else
            {
                var vs = Vector256.Create(scale);
                for (; i + 8 <= width; i += 8) (Vector256.Load(x + i) * vs * Vector256.Load(ws + i)).Store(y + i);
            }
            for (; i < width; i++) y[i] = x[i] * scale * ws[i];
        }
    }

    private struct SwiGluJob
    {
        public float* Gate;
        public float* Up;
        public float* Output;
        public int Count;
        public int Chunk;   // elements per chunk, a multiple of 8
    }

    private const int SwiGluSplit = 16384;

    /// <summary>
    /// silu(gate)·up with a vectorized exp; 256-bit in every set, since .NET 10's Vector512.Exp measured 0.87x of two
    /// Vector256.Exp calls on the Zen 4 EPYC we benchmark on (512-bit float ops run there as two 256-bit halves).
    /// The same holds for <see cref="Softmax"/>. (within a few ulp of MathF.Exp). A prompt's worth of elements (a 512-row
    /// batch of a 4864-wide FFN is 2.5 M) is spread over the pool in four chunks a thread; a batched decode step's (eight
    /// rows: 39 K, about 29 µs on one thread) in one chunk a thread; a single row's stays on the calling thread, where a
    /// dispatch would cost as much as it saves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SwiGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output)
    {
        var n = output.Length;
        if (gate.Length < n || up.Length < n) throw new ArgumentException("swiglu inputs are shorter than the output");
        fixed (float* g = gate)
        fixed (float* u = up)
        fixed (float* y = output)
        {
            var job = new SwiGluJob { Gate = g, Up = u, Output = y, Count = n, Chunk = n };
            if (n < SwiGluSplit || _pool.Threads == 1)
            {
                SwiGluChunk(&job, 0);
                return;
            }
            var chunks = n < 65536 ? _pool.Threads : _pool.Threads * 4;
            job.Chunk = ((n + chunks - 1) / chunks + 7) & ~7;
            _pool.Run(&SwiGluChunk, &job, (n + job.Chunk - 1) / job.Chunk);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SwiGluChunk(void* context, int chunk)
    {
        ref var job = ref *(SwiGluJob*)context;
        var from = chunk * job.Chunk;
        var to = Math.Min(job.Count, from + job.Chunk);
        var g = job.Gate;
        var u = job.Up;
        var y = job.Output;
        var i = from;
        var one = Vector256.Create(1f);
        for (; i + 8 <= to; i += 8)
        {
            var v = Vector256.Load(g + i);
            (v / (one + Vector256.Exp(-v)) * Vector256.Load(u + i)).Store(y + i);
        }
        for (; i < to; i++) y[i] = g[i] / (1f + MathF.Exp(-g[i])) * u[i];
    }

    /// <summary>ggml_vec_soft_max_f32 as the reference: exp(x − max), sum in double, scale by the float reciprocal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Softmax(Span<float> values)
    {
        var n = values.Length;
        if (n == 0) return;

        fixed (float* x = values)
        {
            var i = 0;
            var max = float.NegativeInfinity;
            if (n >= 8)
            {
                var vmax = Vector256.Create(float.NegativeInfinity);
                for (; i + 8 <= n; i += 8) vmax = Vector256.Max(vmax, Vector256.Load(x + i));
                for (var l = 0; l < 8; l++) max = MathF.Max(max, vmax.GetElement(l));
            }
            for (; i < n; i++) max = MathF.Max(max, x[i]);
            var vm = Vector256.Create(max);
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            i = 0;
            for (; i + 8 <= n; i += 8)
            {
                var e = Vector256.Exp(Vector256.Load(x + i) - vm);
                e.Store(x + i);
                var (lo, hi) = Vector256.Widen(e);
                acc0 += lo;
                acc1 += hi;
            }
            var sum = Vector256.Sum(acc0 + acc1);
            for (; i < n; i++)
            {
                var e = MathF.Exp(x[i] - max);
                x[i] = e;
                sum += e;
            }
            var inv = (float)(1.0 / sum);
            var vi = Vector256.Create(inv);
            i = 0;
            for (; i + 8 <= n; i += 8) (Vector256.Load(x + i) * vi).Store(x + i);
            for (; i < n; i++) x[i] *= inv;
        }
    }
}
