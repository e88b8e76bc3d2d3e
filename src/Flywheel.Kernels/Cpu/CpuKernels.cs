using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Reference;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// The x86 SIMD kernel set (AVX2 + FMA). Quantized matmuls quantize each activation row once, exactly as the
/// reference does, then take exact int8 block dot products (<see cref="SimdVecDot"/>) and combine the blocks in the
/// reference's float order, so Q8_0/Q4_0/Q4_K/Q5_K/Q6_K results are bit-identical to <see cref="ReferenceKernels"/>.
/// F32/F16/BF16 weights take a blocked float kernel (CpuKernels.FloatMatMul.cs); other weight types take the reference
/// dot product on the same thread pool. RmsNorm, SwiGlu and softmax are
/// vectorized (named tolerances in the parity tests), attention streams over the F16 cache (CpuKernels.Attention.cs,
/// CpuKernels.AttentionTiled.cs) and RoPE is vectorized bit-identically; row lookups are the reference's.
/// Output rows of a matmul are spread over a <see cref="KernelThreadPool"/> owned by the set; the set allocates nothing
/// per call. Thread-safety: calls may come from several threads, matmuls then take turns on the pool.
/// </summary>
public sealed unsafe partial class CpuKernels : IKernelSet, IDisposable
{
    private readonly ReferenceKernels _reference = new();
    private readonly KernelThreadPool _pool;

    private readonly bool _vnni;
    private readonly bool _avx512;
    private readonly bool _vnni512;

    /// <param name="threads">Threads per matmul, the calling thread included; 0 = one per logical processor.</param>
    /// <param name="useVnni">Use vpdpbusd for int8 dot products when the CPU has it: AVX-VNNI in the 256-bit kernels,
    /// AVX512-VNNI in the 512-bit ones (machine code, <see cref="VnniKernels"/>); false keeps to pmaddubsw/pmaddwd (also
    /// how the tests cover the fallback on VNNI machines).</param>
    /// <param name="useAvx512">Use the 512-bit kernels (AVX-512 F/BW/DQ/VL) where the CPU has them and the set has
    /// one for the op; false keeps every op on its 256-bit path (the "avx2" set).</param>
    public CpuKernels(int threads = 0, bool useVnni = true, bool useAvx512 = true)
    {
        if (!IsSupported) throw new PlatformNotSupportedException("the CPU kernel set needs AVX2 and FMA");
        _pool = new KernelThreadPool(threads > 0 ? threads : Environment.ProcessorCount);
        _vnni = useVnni && TiledMatMul.VnniAvailable;
        _avx512 = useAvx512 && Avx512Supported;
        _vnni512 = useVnni && _avx512 && VnniKernels.IsSupported;
    }

    /// <summary>True when this machine has the AVX-512 subsets the 512-bit kernels use.</summary>
    public static bool Avx512Supported =>
        IsSupported && Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported && Avx512BW.VL.IsSupported;

    /// <summary>Whether this set runs its 512-bit kernels.</summary>
    public bool UsesAvx512 => _avx512;

    /// <summary>True when this machine can run the set.</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    public string Name => _vnni512 ? "avx512-vnni" : _vnni ? "avx-vnni" : _avx512 ? "avx512" : "avx2";

    /// <summary>True when this machine has AVX-VNNI, which the "avx-vnni" variant of the set uses.</summary>
    public static bool VnniSupported => IsSupported && TiledMatMul.VnniAvailable;

    /// <summary>True when this machine has AVX512-VNNI, which the "avx512-vnni" set reaches through machine code.</summary>
    public static bool Avx512VnniSupported => VnniKernels.IsSupported;

    public int Threads => _pool.Threads;

    /// <summary>Everything the reference supports; <see cref="IsAccelerated"/> says which of it has a SIMD path.</summary>
    public bool Supports(KernelOp op, GgmlType type) => _reference.Supports(op, type);

    /// <summary>Whether this set has its own SIMD code for the op and type (the rest is the reference's).</summary>
    public static bool IsAccelerated(KernelOp op, GgmlType type) => op switch
    {
        KernelOp.MatMul => SimdVecDot.IsAccelerated(type) || IsFloatType(type),
        KernelOp.RmsNorm or KernelOp.SwiGlu or KernelOp.Softmax or KernelOp.Rope => type == GgmlType.F32,
        _ => false,
    };

    /// <summary>The reference's quantized activation rows, plus their lane-group copy when the tiled path may run.</summary>
    public long MatMulScratchBytes(GgmlType weightType, int inputFeatures, int rows)
    {
        if (IsFloatType(weightType)) return (long)rows * inputFeatures * sizeof(float); // rounded activations as floats
        var bytes = _reference.MatMulScratchBytes(weightType, inputFeatures, rows);
        if (rows >= TiledMatMul.MinRows && TiledMatMul.Supports(weightType, _vnni))
        {
            bytes = AlignUp(bytes) + TiledMatMul.ActivationBytes(weightType, inputFeatures, rows);
        }
        if (PackedMatMul.Supports(weightType))
        {
            // A prepared weight's path: the same quantized rows, then their block scales and sums.
            bytes = Math.Max(bytes, AlignUp(_reference.MatMulScratchBytes(weightType, inputFeatures, rows)) + PackedMatMul.ActivationExtraBytes(inputFeatures, rows));
        }
        if (_avx512 && PackedMatMul512.Supports(weightType))
        {
            // Its activations go straight into the tiles, from the start of the scratch.
            bytes = Math.Max(bytes, PackedMatMul512.ActivationTileBytes(inputFeatures, rows));
        }
        return bytes;
    }

    /// <summary>
    /// Q8_0, Q4_0 and Q5_0 matrices get their output rows interleaved in eights (<see cref="PackedMatMul"/>), or in
    /// sixteens on the avx512 set (<see cref="PackedMatMul512"/>), the same number of bytes as the file's; Q4_K, Q5_K and
    /// Q6_K matrices theirs interleaved in eights per super-block with the scales unpacked (<see cref="PackedKMatMul"/>,
    /// 1-6% more bytes); other types, and row lengths that are not whole blocks,
    /// are returned as they are.
    /// </summary>
    public TensorView PrepareWeight(TensorView weight)
    {
        if (PackedKMatMul.Enabled && PackedKMatMul.Supports(weight.Type) && weight.Shape.Count == 2 && weight.RowLength % 256 == 0 && weight.RowCount > 0)
        {
            if (weight.Packed is { } kPacked && kPacked.Layout == PackedKMatMul.Layout) return weight;
            return weight.WithPacked(PackedKMatMul.Pack(weight));
        }
        if (!PackedMatMul.Supports(weight.Type) || weight.Shape.Count != 2 || weight.RowLength % 32 != 0 || weight.RowCount == 0) return weight;
        if (_avx512 && PackedMatMul512.Supports(weight.Type))
        {
            if (weight.Packed is { } wide && wide.Layout == PackedMatMul512.LayoutOf(weight.Type, _vnni512)) return weight;
            return weight.WithPacked(PackedMatMul512.Pack(weight, _vnni512));
        }
        if (weight.Packed is { } existing && existing.Layout == PackedMatMul.Layout) return weight;
        return weight.WithPacked(PackedMatMul.Pack(weight));
    }

    private static long AlignUp(long bytes) => (bytes + 63) & ~63L;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MatMul(TensorView weight, ReadOnlySpan<float> input, Span<float> output, int rows, Span<byte> scratch)
    {
        var inFeatures = checked((int)weight.RowLength);
        var outFeatures = RowCount(weight);
        if (input.Length < (long)rows * inFeatures) throw new ArgumentException($"input holds {input.Length} floats, need {rows}×{inFeatures}");
        if (output.Length < (long)rows * outFeatures) throw new ArgumentException($"output holds {output.Length} floats, need {rows}×{outFeatures}");
        if (IsFloatType(weight.Type))
        {
            fixed (float* fx = input)
            fixed (float* fy = output)
            fixed (byte* fs = scratch)
            {
                FloatMatMul(weight, fx, fy, rows, inFeatures, outFeatures, fs, scratch.Length);
            }
            return;
        }
        var vecDotType = ActivationQuant.VecDotType(weight.Type);
        var actRowBytes = GgmlTypeInfo.RowBytes(vecDotType, inFeatures);
        if (actRowBytes < 0) throw new NotSupportedException($"{inFeatures} is not a multiple of the {GgmlTypeInfo.Name(vecDotType)} block");
        if (scratch.Length < actRowBytes * rows) throw new ArgumentException("matmul scratch is too small");
        if (weight.Packed is { } packed && packed.Layout == PackedMatMul.Layout && !PackedMatMul.PrefersRowPath(weight.Type, rows))
        {
            MatMulPacked(weight, packed, input, output, rows, scratch, actRowBytes);
            return;
        }
        if (weight.Packed is { } wide && wide.Layout == PackedMatMul512.LayoutOf(weight.Type, _vnni512))
        {
            MatMulPacked512(weight, wide, input, output, rows, scratch);
            return;
        }
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (byte* act = scratch)
        {
            var job = new MatMulJob
            {
                Weight = weight.Data,
                WeightRowBytes = weight.RowBytes,
                Type = weight.Type,
                VecDotType = vecDotType,
                Input = x,
                Act = act,
                ActRowBytes = actRowBytes,
                Output = y,
                Rows = rows,
                InFeatures = inFeatures,
                OutFeatures = outFeatures,
            };
            // Activation rows are quantized once (ggml's wdata), in parallel when there are many of them.
            job.ChunkRows = QuantRowsPerChunk(rows, inFeatures);
            RunChunks(&QuantizeChunk, &job, rows, job.ChunkRows);

            if (weight.Packed is { } kPacked && kPacked.Layout == PackedKMatMul.Layout)
            {
                MatMulPackedK(weight, kPacked, act, y, rows, actRowBytes);
                return;
            }

            if (rows >= TiledMatMul.MinRows && TiledMatMul.Supports(weight.Type, _vnni))
            {
                var packedOffset = AlignUp(actRowBytes * rows);
                var packedBytes = TiledMatMul.ActivationBytes(weight.Type, inFeatures, rows);
                if (scratch.Length < packedOffset + packedBytes) throw new ArgumentException("matmul scratch is too small");
                var tiled = new TiledMatMul.Job
                {
                    Weight = weight.Data,
                    WeightRowBytes = weight.RowBytes,
                    Type = weight.Type,
                    Act = act,
                    ActRowBytes = actRowBytes,
                    Packed = act + packedOffset,
                    Output = y,
                    Rows = rows,
                    InFeatures = inFeatures,
                    OutFeatures = outFeatures,
                    ChunkRows = TiledMatMul.ChunkRowsFor(weight.Type, inFeatures, outFeatures, _pool.Threads),
                    Vnni = _vnni,
                };
                var paddedRows = (rows + TiledMatMul.TileCols - 1) / TiledMatMul.TileCols * TiledMatMul.TileCols;
                _pool.Run(&TiledMatMul.PackActivationRow, &tiled, paddedRows);
                var paddedOut = (outFeatures + TiledMatMul.TileRows - 1) / TiledMatMul.TileRows * TiledMatMul.TileRows;
                _pool.Run(&TiledMatMul.RunChunk, &tiled, (paddedOut + tiled.ChunkRows - 1) / tiled.ChunkRows);
                return;
            }

            // Output rows in chunks: enough chunks for balance on a noisy machine, each big enough to amortize.
            job.ChunkRows = IsSmallMatMul(outFeatures, inFeatures, rows) ? outFeatures : Math.Max(8, outFeatures / (_pool.Threads * 8));
            RunChunks(&MatMulChunk, &job, outFeatures, job.ChunkRows);
        }
    }

    private void MatMulPacked(TensorView weight, PackedTensor packed, ReadOnlySpan<float> input, Span<float> output, int rows,
        Span<byte> scratch, long actRowBytes)
    {
        var inFeatures = checked((int)weight.RowLength);
        var outFeatures = RowCount(weight);
        var extraOffset = AlignUp(actRowBytes * rows);
        if (scratch.Length < extraOffset + PackedMatMul.ActivationExtraBytes(inFeatures, rows)) throw new ArgumentException("matmul scratch is too small");
        if (packed.Data == null) throw new ObjectDisposedException(weight.Name, "the packed weight was disposed");
        var blocks = inFeatures / 32;
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (byte* act = scratch)
        {
            var job = new PackedMatMul.Job
            {
                Weight = packed.Data,
                GroupBytes = PackedMatMul.GroupBytes(weight.Type, inFeatures),
                Type = weight.Type,
                Blocks = blocks,
                Input = x,
                Act = act,
                ActRowBytes = actRowBytes,
                ActScales = (float*)(act + extraOffset),
                ActOffsets = (int*)(act + extraOffset) + (long)rows * blocks,
                Output = y,
                Rows = rows,
                OutFeatures = outFeatures,
                Groups = PackedMatMul.Groups(outFeatures),
            };
            job.QuantRowsPerChunk = QuantRowsPerChunk(rows, inFeatures);
            RunChunks(&PackedMatMul.PrepareActivations, &job, rows, job.QuantRowsPerChunk);
            job.Chunks = IsSmallMatMul(outFeatures, inFeatures, rows)
                ? ChunkPlan.Uniform(job.Groups, job.Groups)
                : PackedMatMul.Plan(weight.Type, inFeatures, rows, job.Groups, _pool.Threads);
            _pool.Run(&PackedMatMul.RunChunk, &job, job.Chunks.Chunks);
        }
    }

    private void MatMulPacked512(TensorView weight, PackedTensor packed, ReadOnlySpan<float> input, Span<float> output, int rows,
        Span<byte> scratch)
    {
        var inFeatures = checked((int)weight.RowLength);
        var outFeatures = RowCount(weight);
        if (scratch.Length < PackedMatMul512.ActivationTileBytes(inFeatures, rows)) throw new ArgumentException("matmul scratch is too small");
        if (packed.Data == null) throw new ObjectDisposedException(weight.Name, "the packed weight was disposed");
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (byte* tiles = scratch)
        {
            var job = new PackedMatMul512.Job
            {
                Weight = packed.Data,
                GroupBytes = PackedMatMul512.GroupBytes(weight.Type, inFeatures),
                Type = weight.Type,
                Blocks = inFeatures / 32,
                Input = x,
                Tiles = tiles,
                Output = y,
                Rows = rows,
                OutFeatures = outFeatures,
                Groups = PackedMatMul512.Groups(outFeatures),
            };
            job.PrepareBlocksPerChunk = PackedMatMul512.PrepareBlocksPerChunk(job.Blocks, rows, _pool.Threads);
            job.Vnni = _vnni512;
            RunChunks(&PackedMatMul512.PrepareActivations, &job, job.Blocks, job.PrepareBlocksPerChunk);
            job.Chunks = IsSmallMatMul(outFeatures, inFeatures, rows)
                ? ChunkPlan.Uniform(job.Groups, job.Groups)
                : PackedMatMul512.Plan(weight.Type, inFeatures, rows, job.Groups, _pool.Threads);
            _pool.Run(&PackedMatMul512.RunChunk, &job, job.Chunks.Chunks);
        }
    }

    private void MatMulPackedK(TensorView weight, PackedTensor packed, byte* act, float* y, int rows, long actRowBytes)
    {
        if (packed.Data == null) throw new ObjectDisposedException(weight.Name, "the packed weight was disposed");
        var inFeatures = checked((int)weight.RowLength);
        var outFeatures = RowCount(weight);
        var job = new PackedKMatMul.Job
        {
            Weight = packed.Data,
            GroupBytes = PackedKMatMul.GroupBytes(weight.Type, inFeatures),
            Type = weight.Type,
            SuperBlocks = inFeatures / 256,
            Act = act,
            ActRowBytes = actRowBytes,
            Output = y,
            Rows = rows,
            OutFeatures = outFeatures,
            Groups = PackedKMatMul.Groups(outFeatures),
        };
        job.Chunks = IsSmallMatMul(outFeatures, inFeatures, rows)
            ? ChunkPlan.Uniform(job.Groups, job.Groups)
            : PackedKMatMul.Plan(weight.Type, inFeatures, rows, job.Groups, _pool.Threads);
        _pool.Run(&PackedKMatMul.RunChunk, &job, job.Chunks.Chunks);
    }

    /// <summary>TensorView.RowCount without its foreach over the shape interface, which allocates an enumerator.</summary>
    private static int RowCount(TensorView weight)
    {
        var shape = weight.Shape;
        long rows = 1;
        for (var i = 1; i < shape.Count; i++) rows *= shape[i];
        return checked((int)rows);
    }

    /// <summary>
    /// Activation rows per quantization chunk: all of them (one chunk, on the calling thread) below 65,536 elements,
    /// where waking the pool costs more than it saves, else enough chunks to balance a noisy machine.
    /// </summary>
    private int QuantRowsPerChunk(int rows, int inFeatures) => RowsPerChunk(rows, inFeatures, 65536);

    /// <summary>
    /// Rows per chunk of a row-wise job: all of them (one chunk, on the calling thread) below <paramref name="split"/>
    /// elements, else four chunks a thread.
    /// </summary>
    private int RowsPerChunk(int rows, int width, long split) =>
        (long)rows * width < split ? Math.Max(1, rows) : Math.Max(1, (rows + _pool.Threads * 4 - 1) / (_pool.Threads * 4));

    /// <summary>A matmul too small to spread over the pool: it runs as one chunk on the calling thread.</summary>
    private static bool IsSmallMatMul(int outFeatures, int inFeatures, int rows) => (long)outFeatures * inFeatures * rows < 32768;

    /// <summary>
    /// <paramref name="function"/> over <paramref name="count"/> items in chunks of <paramref name="perChunk"/>; a
    /// single chunk runs on the calling thread (<see cref="KernelThreadPool.Run"/> does not wake the pool for it).
    /// </summary>
    private void RunChunks(delegate*<void*, int, void> function, void* job, int count, int perChunk)
    {
        if (count > 0) _pool.Run(function, job, (count + perChunk - 1) / perChunk);
    }

    private struct MatMulJob
    {
        public byte* Weight;
        public long WeightRowBytes;
        public GgmlType Type;
        public GgmlType VecDotType;
        public float* Input;       // [rows, in]
        public byte* Act;          // [rows, act row bytes] quantized activations
        public long ActRowBytes;
        public float* Output;      // [rows, out]
        public int Rows;
        public int InFeatures;
        public int OutFeatures;
        public int ChunkRows;
    }

    private static void QuantizeChunk(void* context, int chunk)
    {
        ref var job = ref *(MatMulJob*)context;
        var end = Math.Min(job.Rows, (chunk + 1) * job.ChunkRows);
        for (var t = chunk * job.ChunkRows; t < end; t++)
        {
            SimdActivationQuant.Quantize(job.VecDotType, job.Input + (long)t * job.InFeatures, job.Act + t * job.ActRowBytes, job.InFeatures);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MatMulChunk(void* context, int chunk)
    {
        ref var job = ref *(MatMulJob*)context;
        var from = chunk * job.ChunkRows;
        var to = Math.Min(job.OutFeatures, from + job.ChunkRows);
        var type = job.Type;
        var n = job.InFeatures;
        for (var o = from; o < to; o++)
        {
            var w = job.Weight + o * job.WeightRowBytes;
            for (var t = 0; t < job.Rows; t++)
            {
                job.Output[(long)t * job.OutFeatures + o] = SimdVecDot.Dot(type, w, job.Act + t * job.ActRowBytes, n);
            }
        }
    }

    /// <summary>The reference's dequantization, with the row located without TensorView.Row (whose bounds check allocates).</summary>
    public void GetRow(TensorView table, int row, Span<float> output)
    {
        if ((uint)row >= (uint)RowCount(table)) throw new ArgumentOutOfRangeException(nameof(row));
        var rowBytes = table.RowBytes;
        Dequantize.Row(table.Type, new ReadOnlySpan<byte>(table.Data + row * rowBytes, checked((int)rowBytes)),
            output[..checked((int)table.RowLength)]);
    }

    public int AttentionScratchFloats(int contextLength, int heads, int headDim) =>
        _reference.AttentionScratchFloats(contextLength, heads, headDim);

    public void Dispose() => _pool.Dispose();
}
