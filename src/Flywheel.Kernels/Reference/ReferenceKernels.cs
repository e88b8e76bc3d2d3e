using System.Runtime.CompilerServices;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Reference;

/// <summary>
/// Scalar kernels: the specification every faster set must match (DESIGN.md habit 1). The numerics follow
/// llama.cpp's CPU backend step for step where that decides results (activation quantization, F16 KV cache,
/// double-precision sums in RMSNorm and softmax, iterated RoPE angles), so greedy decoding reproduces its ids.
/// Stateless and thread-safe; matmul spreads output rows over up to <see cref="KernelSets.ThreadCount"/> threads with
/// Parallel.For (so <c>--threads</c> bounds it as it sizes the SIMD sets' pools).
/// </summary>
public sealed unsafe partial class ReferenceKernels : IKernelSet
{
    public ReferenceKernels(bool fusedAttention = true)
    {
        FusedAttention = fusedAttention;
    }

    /// <summary>
    /// True: attention as llama.cpp's CPU flash-attention kernel computes it (F16 accumulator), which llama.cpp
    /// uses by default (flash_attn = auto); false: its unfused mul_mat/soft_max/mul_mat graph.
    /// </summary>
    public bool FusedAttention { get; }

    public string Name => "reference";

    public bool Supports(KernelOp op, GgmlType type) => op switch
    {
        KernelOp.MatMul => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0
            or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.IQ4_NL or GgmlType.Q2_K or GgmlType.Q3_K
            or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.IQ4_XS,
        KernelOp.GetRows => Dequantize.IsSupported(type),
        _ => type is GgmlType.F32,
    };

    public long MatMulScratchBytes(GgmlType weightType, int inputFeatures, int rows)
    {
        var vecDotType = ActivationQuant.VecDotType(weightType);
        var rowBytes = GgmlTypeInfo.RowBytes(vecDotType, inputFeatures);
        if (rowBytes < 0)
        {
            throw new NotSupportedException(
                $"a {GgmlTypeInfo.Name(weightType)} matmul needs rows that are a multiple of the {GgmlTypeInfo.Name(vecDotType)} block ({inputFeatures} is not)");
        }
        return rowBytes * rows;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MatMul(TensorView weight, ReadOnlySpan<float> input, Span<float> output, int rows, Span<byte> scratch)
    {
        var inFeatures = checked((int)weight.RowLength);
        var outFeatures = checked((int)weight.RowCount);
        if (input.Length < (long)rows * inFeatures) throw new ArgumentException($"input holds {input.Length} floats, need {rows}×{inFeatures}");
        if (output.Length < (long)rows * outFeatures) throw new ArgumentException($"output holds {output.Length} floats, need {rows}×{outFeatures}");
        var vecDotType = ActivationQuant.VecDotType(weight.Type);
        var actRowBytes = GgmlTypeInfo.RowBytes(vecDotType, inFeatures);
        if (scratch.Length < actRowBytes * rows) throw new ArgumentException("matmul scratch is too small");
        var weightRowBytes = weight.RowBytes;
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (byte* act = scratch)
        {
            // Quantize each activation row once, as ggml does into its wdata before the row loop.
            for (var t = 0; t < rows; t++)
            {
                ActivationQuant.Quantize(vecDotType, x + (long)t * inFeatures, act + t * actRowBytes, inFeatures);
            }
            var job = new MatMulJob((nint)weight.Data, weightRowBytes, weight.Type, (nint)act, actRowBytes, (nint)y, rows, inFeatures, outFeatures);
            var threads = KernelSets.ThreadCount;
            var chunk = Math.Max(16, outFeatures / (threads * 4));
            var chunks = (outFeatures + chunk - 1) / chunk;
            if (chunks == 1 || threads == 1 || (long)outFeatures * inFeatures * rows < 32768)
            {
                job.Run(0, outFeatures);
            }
            else
            {
                Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads },
                    c => job.Run(c * chunk, Math.Min(outFeatures, (c + 1) * chunk)));
            }
        }
    }

    private readonly record struct MatMulJob(nint Weight, long WeightRowBytes, GgmlType Type, nint Act, long ActRowBytes,
        nint Output, int Rows, int InFeatures, int OutFeatures)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int from, int to)
        {
            for (var o = from; o < to; o++)
            {
                var w = (byte*)Weight + o * WeightRowBytes;
                for (var t = 0; t < Rows; t++)
                {
                    ((float*)Output)[(long)t * OutFeatures + o] = VecDot.Dot(Type, w, (byte*)Act + t * ActRowBytes, InFeatures);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void GetRow(TensorView table, int row, Span<float> output)
    {
        Dequantize.Row(table.Type, table.Row(row), output[..checked((int)table.RowLength)]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RmsNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, Span<float> output, int width, float epsilon)
    {
        if (weight.Length != width) throw new ArgumentException($"norm weight has {weight.Length} values, rows have {width}");
        var rows = input.Length / width;
        for (var r = 0; r < rows; r++)
        {
            var x = input.Slice(r * width, width);
            var y = output.Slice(r * width, width);
            // ggml_compute_forward_rms_norm_f32: float squares summed in double, mean narrowed to float.
            double sum = 0;
            for (var i = 0; i < width; i++) sum += x[i] * x[i];
            var mean = (float)(sum / width);
            var scale = 1f / MathF.Sqrt(mean + epsilon);
            // llama.cpp applies the weight as a separate ggml_mul, so round after each multiply.
            for (var i = 0; i < width; i++) y[i] = x[i] * scale * weight[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Softmax(Span<float> values)
    {
        // ggml_vec_soft_max_f32: exp(x − max), sum in double, then scale by the float reciprocal.
        var max = float.NegativeInfinity;
        foreach (var v in values) max = MathF.Max(max, v);
        double sum = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var e = MathF.Exp(values[i] - max);
            values[i] = e;
            sum += e;
        }
        var inv = (float)(1.0 / sum);
        for (var i = 0; i < values.Length; i++) values[i] *= inv;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SwiGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output)
    {
        for (var i = 0; i < output.Length; i++)
        {
            var g = gate[i];
            output[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }
}
