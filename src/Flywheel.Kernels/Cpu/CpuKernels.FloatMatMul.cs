using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Reference;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Cpu;

public sealed unsafe partial class CpuKernels
{
    /// <summary>Output rows per block of the float micro-kernel (4 weight rows × 2 activation rows = 8 accumulators).</summary>
    private const int FloatBlockRows = 4;

    [ThreadStatic] private static float* t_weightTile;
    [ThreadStatic] private static long t_weightTileFloats;

    private static bool IsFloatType(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16;

    private struct FloatMatMulJob
    {
        public byte* Weight;
        public long WeightRowBytes;
        public GgmlType Type;
        public float* Input;       // [rows, in]
        public float* Act;         // [rows, in]: the input rounded to the weight's type (F16/BF16), or the input itself (F32)
        public float* Output;      // [rows, out]
        public int Rows;
        public int InFeatures;
        public int OutFeatures;
        public int ChunkRows;      // output rows per chunk (a multiple of FloatBlockRows), or activation rows per rounding chunk
    }

    /// <summary>
    /// F32/F16/BF16 weights. Activations are rounded to the weight's type first, as the reference's vec_dot type does
    /// (F16 through <see cref="RoundToHalf"/>, BF16 by round-to-nearest-even of the top 16 bits), and kept as floats;
    /// a chunk of output rows has its weights widened to F32 once, then every activation row pair meets every block of
    /// four of them in a 4×2 block of vector accumulators. Products are exact in float for F16/BF16 operands, but the
    /// sum runs in 8 float lanes where the reference sums in double (llama.cpp's SIMD F16 dot also sums in float lanes),
    /// so results differ from the reference by float rounding (named tolerance in the parity tests).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FloatMatMul(TensorView weight, float* x, float* y, int rows, int inFeatures, int outFeatures, byte* scratch, long scratchBytes)
    {
        var job = new FloatMatMulJob
        {
            Weight = weight.Data, WeightRowBytes = weight.RowBytes, Type = weight.Type, Input = x, Act = x, Output = y,
            Rows = rows, InFeatures = inFeatures, OutFeatures = outFeatures,
        };
        if (weight.Type != GgmlType.F32)
        {
            if (scratchBytes < (long)rows * inFeatures * sizeof(float)) throw new ArgumentException("matmul scratch is too small");
            job.Act = (float*)scratch;
            if ((long)rows * inFeatures < 65536)
            {
                job.ChunkRows = rows;
                RoundActivationChunk(&job, 0);
            }
            else
            {
                job.ChunkRows = Math.Max(1, (rows + _pool.Threads * 4 - 1) / (_pool.Threads * 4));
                _pool.Run(&RoundActivationChunk, &job, (rows + job.ChunkRows - 1) / job.ChunkRows);
            }
        }
        // Chunks of whole 4-row blocks: at least 4 per thread for balance, at most 64 rows so a chunk's widened
        // weights stay in L2 while the activation rows stream past them.
        var blocks = (outFeatures + FloatBlockRows - 1) / FloatBlockRows;
        var blocksPerChunk = Math.Clamp(blocks / (_pool.Threads * 4), 1, 64 / FloatBlockRows);
        if ((long)outFeatures * inFeatures * rows < 32768) blocksPerChunk = blocks;
        job.ChunkRows = blocksPerChunk * FloatBlockRows;
        var chunks = (blocks + blocksPerChunk - 1) / blocksPerChunk;
        // The calling thread takes chunks too, but which ones is up to the pool: sizing its tile here, every call,
        // makes its first (allocating) use happen on the first call rather than whenever it first wins a chunk,
        // so a warmed-up decode step allocates nothing.
        if (weight.Type != GgmlType.F32) WeightTile((long)job.ChunkRows * inFeatures);
        if (chunks == 1) FloatMatMulChunk(&job, 0);
        else _pool.Run(&FloatMatMulChunk, &job, chunks);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RoundActivationChunk(void* context, int chunk)
    {
        ref var job = ref *(FloatMatMulJob*)context;
        var n = job.InFeatures;
        var end = Math.Min(job.Rows, (chunk + 1) * job.ChunkRows);
        for (var t = chunk * job.ChunkRows; t < end; t++)
        {
            var src = job.Input + (long)t * n;
            var dst = job.Act + (long)t * n;
            var i = 0;
            if (job.Type == GgmlType.F16)
            {
                for (; i + 8 <= n; i += 8) RoundToHalf(Vector256.Load(src + i)).Store(dst + i);
                for (; i < n; i++) dst[i] = Half16.Round(src[i]);
            }
            else
            {
                for (; i + 8 <= n; i += 8) RoundToBf16(Vector256.Load(src + i)).Store(dst + i);
                for (; i < n; i++) dst[i] = Bf16.ToFloat(Bf16.FromFloat(src[i]));
            }
        }
    }

    /// <summary>
    /// Rounds 8 floats to bfloat16 and back, as Bf16.FromFloat does one at a time: round to nearest even on the top 16
    /// bits (a carry into the exponent rounds the largest values to infinity); a NaN is truncated and made quiet.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> RoundToBf16(Vector256<float> v)
    {
        var u = v.AsUInt32();
        var rounded = (u + Vector256.Create(0x7FFFu) + (Vector256.ShiftRightLogical(u, 16) & Vector256<uint>.One)) & Vector256.Create(0xFFFF0000u);
        var nan = Vector256.GreaterThan(u & Vector256.Create(0x7FFFFFFFu), Vector256.Create(0x7F800000u));
        var quiet = (u & Vector256.Create(0xFFFF0000u)) | Vector256.Create(0x00400000u);
        return Vector256.ConditionalSelect(nan, quiet, rounded).AsSingle();
    }

    private static float* WeightTile(long floats)
    {
        if (t_weightTileFloats < floats)
        {
            if (t_weightTile != null) NativeMemory.AlignedFree(t_weightTile);
            t_weightTile = (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
            t_weightTileFloats = floats;
        }
        return t_weightTile;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FloatMatMulChunk(void* context, int chunk)
    {
        ref var job = ref *(FloatMatMulJob*)context;
        var n = job.InFeatures;
        var from = chunk * job.ChunkRows;
        var to = Math.Min(job.OutFeatures, from + job.ChunkRows);
        var count = to - from;

        // The chunk's weight rows as F32: the weights themselves for F32, else widened into a per-thread tile.
        float* tile;
        long stride;
        if (job.Type == GgmlType.F32)
        {
            tile = (float*)(job.Weight + from * job.WeightRowBytes);
            stride = job.WeightRowBytes / sizeof(float);
        }
        else
        {
            tile = WeightTile((long)count * n);
            stride = n;
            for (var o = 0; o < count; o++) WidenRow(job.Type, (ushort*)(job.Weight + (from + o) * job.WeightRowBytes), tile + o * stride, n);
        }

        var outStride = job.OutFeatures;
        for (var t = 0; t < job.Rows; t += 2)
        {
            var a0 = job.Act + (long)t * n;
            var pair = t + 1 < job.Rows;
            var a1 = pair ? a0 + n : a0;
            for (var o = 0; o < count; o += FloatBlockRows)
            {
                // A last block of fewer than four rows repeats its last row (results discarded).
                var w0 = tile + o * stride;
                var w1 = tile + Math.Min(o + 1, count - 1) * stride;
                var w2 = tile + Math.Min(o + 2, count - 1) * stride;
                var w3 = tile + Math.Min(o + 3, count - 1) * stride;
                var r = Dot4x2(w0, w1, w2, w3, a0, a1, n);
                var y0 = job.Output + (long)t * outStride + from + o;
                var valid = Math.Min(FloatBlockRows, count - o);
                for (var k = 0; k < valid; k++) y0[k] = r.GetElement(k);
                if (pair)
                {
                    var y1 = y0 + outStride;
                    for (var k = 0; k < valid; k++) y1[k] = r.GetElement(4 + k);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WidenRow(GgmlType type, ushort* src, float* dst, int n)
    {
        var i = 0;
        if (type == GgmlType.F16)
        {
            for (; i + 8 <= n; i += 8) HalfToFloat(Vector128.Load(src + i)).Store(dst + i);
            for (; i < n; i++) dst[i] = Half16.ToFloat(src[i]);
        }
        else
        {
            for (; i + 8 <= n; i += 8) Vector256.ShiftLeft(Avx2.ConvertToVector256Int32(Vector128.Load(src + i)).AsUInt32(), 16).AsSingle().Store(dst + i);
            for (; i < n; i++) dst[i] = Bf16.ToFloat(src[i]);
        }
    }

    /// <summary>The 8 dot products of weight rows w0..w3 with activation rows a0, a1: lanes 0-3 for a0, 4-7 for a1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Dot4x2(float* w0, float* w1, float* w2, float* w3, float* a0, float* a1, int n)
    {
        var c00 = Vector256<float>.Zero;
        var c10 = Vector256<float>.Zero;
        var c20 = Vector256<float>.Zero;
        var c30 = Vector256<float>.Zero;
        var c01 = Vector256<float>.Zero;
        var c11 = Vector256<float>.Zero;
        var c21 = Vector256<float>.Zero;
        var c31 = Vector256<float>.Zero;
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var x0 = Vector256.Load(a0 + i);
            var x1 = Vector256.Load(a1 + i);
            var v = Vector256.Load(w0 + i);
            c00 = Vector256.FusedMultiplyAdd(v, x0, c00);
            c01 = Vector256.FusedMultiplyAdd(v, x1, c01);
            v = Vector256.Load(w1 + i);
            c10 = Vector256.FusedMultiplyAdd(v, x0, c10);
            c11 = Vector256.FusedMultiplyAdd(v, x1, c11);
            v = Vector256.Load(w2 + i);
            c20 = Vector256.FusedMultiplyAdd(v, x0, c20);
            c21 = Vector256.FusedMultiplyAdd(v, x1, c21);
            v = Vector256.Load(w3 + i);
            c30 = Vector256.FusedMultiplyAdd(v, x0, c30);
            c31 = Vector256.FusedMultiplyAdd(v, x1, c31);
        }
        var r = Vector256.Create(
            Vector256.Sum(c00), Vector256.Sum(c10), Vector256.Sum(c20), Vector256.Sum(c30),
            Vector256.Sum(c01), Vector256.Sum(c11), Vector256.Sum(c21), Vector256.Sum(c31));
        if (i < n)
        {
            float t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0, t6 = 0, t7 = 0;
            for (; i < n; i++)
            {
                t0 += w0[i] * a0[i];
                t1 += w1[i] * a0[i];
                t2 += w2[i] * a0[i];
                t3 += w3[i] * a0[i];
                t4 += w0[i] * a1[i];
                t5 += w1[i] * a1[i];
                t6 += w2[i] * a1[i];
                t7 += w3[i] * a1[i];
            }
            r += Vector256.Create(t0, t1, t2, t3, t4, t5, t6, t7);
        }
        return r;
    }
}
