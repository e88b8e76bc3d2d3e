using System.Runtime.CompilerServices;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Reference;

/// <summary>
/// Quantizes activation rows to the "vec_dot type" a weight type is multiplied against, the way llama.cpp's CPU
/// backend does before every quantized matmul (ggml-cpu type_traits_cpu[type].vec_dot_type):
/// Q8_0 for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants and IQ4_XS, F16 for F16 (the
/// activations are rounded to half!), BF16 for BF16, F32 for F32. Reproducing these roundings is what makes our
/// logits track llama.cpp's to ~1e-4 and the greedy ids identical.
/// </summary>
internal static unsafe class ActivationQuant
{
    public const int Q8_0BlockBytes = 34;  // fp16 d + 32 × int8
    public const int Q8_1BlockBytes = 36;  // fp16 d + fp16 s (= d · Σq) + 32 × int8
    public const int Q8_KBlockBytes = 292; // f32 d + 256 × int8 + 16 × int16 group sums

    public static GgmlType VecDotType(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => GgmlType.F32,
        GgmlType.F16 => GgmlType.F16,
        GgmlType.BF16 => GgmlType.BF16,
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.IQ4_NL => GgmlType.Q8_0,
        GgmlType.Q4_1 or GgmlType.Q5_1 => GgmlType.Q8_1,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.IQ4_XS => GgmlType.Q8_K,
        _ => throw new NotSupportedException($"no reference matmul for weight type {GgmlTypeInfo.Name(weightType)}"),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(GgmlType vecDotType, float* x, byte* y, int n)
    {
        switch (vecDotType)
        {
            case GgmlType.F32: Buffer.MemoryCopy(x, y, n * 4L, n * 4L); break;
            case GgmlType.F16: for (var i = 0; i < n; i++) ((ushort*)y)[i] = Half16.FromFloat(x[i]); break;
            case GgmlType.BF16: for (var i = 0; i < n; i++) ((ushort*)y)[i] = Bf16.FromFloat(x[i]); break;
            case GgmlType.Q8_0: Q8_0(x, y, n, withSum: false); break;
            case GgmlType.Q8_1: Q8_0(x, y, n, withSum: true); break;
            case GgmlType.Q8_K: Q8_K(x, y, n); break;
            default: throw new NotSupportedException($"activation type {vecDotType}");
        }
    }

    /// <summary>
    /// Q8_0 / Q8_1 as ggml-cpu's x86 quantize_row_q8_0/q8_1 (AVX path): d = amax/127, multiply by 127/amax and round
    /// half to even (_mm256_round_ps with _MM_ROUND_NEAREST). Q8_1 adds s = fp16(d · Σq).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q8_0(float* x, byte* y, int n, bool withSum)
    {
        var blockBytes = withSum ? Q8_1BlockBytes : Q8_0BlockBytes;
        var header = withSum ? 4 : 2;
        for (var b = 0; b < n / 32; b++)
        {
            var xb = x + b * 32;
            var yb = y + (long)b * blockBytes;
            var amax = 0f;
            for (var j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(xb[j]));
            var d = amax / 127f;
            var id = amax != 0f ? 127f / amax : 0f;
            var qs = (sbyte*)(yb + header);
            var sum = 0;
            for (var j = 0; j < 32; j++)
            {
                var q = (int)MathF.Round(xb[j] * id, MidpointRounding.ToEven);
                qs[j] = (sbyte)q;
                sum += q;
            }
            ((ushort*)yb)[0] = Half16.FromFloat(d);
            if (withSum) ((ushort*)yb)[1] = Half16.FromFloat(d * sum);
        }
    }

    /// <summary>
    /// Q8_K as ggml's quantize_row_q8_K_ref (x86 uses the reference): scale by -127/max where max is the signed
    /// value of largest magnitude, round half to even (nearest_int), clamp to 127, d = 1/iscale, plus group sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q8_K(float* x, byte* y, int n)
    {
        for (var b = 0; b < n / 256; b++)
        {
            var xb = x + b * 256;
            var yb = y + (long)b * Q8_KBlockBytes;
            var qs = (sbyte*)(yb + 4);
            var sums = (short*)(yb + 4 + 256);
            float max = 0, amax = 0;
            for (var j = 0; j < 256; j++)
            {
                var ax = MathF.Abs(xb[j]);
                if (ax > amax) { amax = ax; max = xb[j]; }
            }
            if (amax == 0f)
            {
                *(float*)yb = 0f;
                new Span<byte>(qs, 256 + 32).Clear();
                continue;
            }
            var iscale = -127f / max;
            for (var j = 0; j < 256; j++)
            {
                var v = (int)MathF.Round(iscale * xb[j], MidpointRounding.ToEven);
                qs[j] = (sbyte)Math.Min(127, v);
            }
            for (var g = 0; g < 16; g++)
            {
                var s = 0;
                for (var j = 0; j < 16; j++) s += qs[g * 16 + j];
                sums[g] = (short)s;
            }
            *(float*)yb = 1f / iscale;
        }
    }
}
