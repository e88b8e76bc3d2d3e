using System.Runtime.CompilerServices;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Reference;

/// <summary>
/// Dot product of one quantized weight row with one activation row already in the weight's vec_dot type
/// (<see cref="ActivationQuant.VecDotType"/>). Each block's integer dot product is exact, and the float combination
/// per block follows ggml-cpu's generic vec_dot functions (ggml_vec_dot_q4_0_q8_0_generic and friends), so only
/// the order of float additions across blocks can differ from llama.cpp's SIMD versions.
/// Block layouts per ggml-common.h; offsets below are in bytes.
/// </summary>
internal static unsafe partial class VecDot
{
    /// <summary>IQ4_NL / IQ4_XS codebook, ggml-common.h kvalues_iq4nl.</summary>
    private static ReadOnlySpan<sbyte> Iq4Values => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    public static float Dot(GgmlType type, byte* w, byte* a, int n) => type switch
    {
        GgmlType.F32 => DotF32((float*)w, (float*)a, n),
        GgmlType.F16 => DotF16((ushort*)w, (ushort*)a, n),
        GgmlType.BF16 => DotBF16((ushort*)w, (ushort*)a, n),
        GgmlType.Q8_0 => DotQ8_0(w, a, n),
        GgmlType.Q4_0 => DotQ4_0(w, a, n),
        GgmlType.Q4_1 => DotQ4_1(w, a, n),
        GgmlType.Q5_0 => DotQ5_0(w, a, n),
        GgmlType.Q5_1 => DotQ5_1(w, a, n),
        GgmlType.IQ4_NL => DotIq4Nl(w, a, n),
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.IQ4_XS => DotK(type, w, a, n),
        _ => throw new NotSupportedException($"no reference vec_dot for {GgmlTypeInfo.Name(type)}"),
    };

    // Float rows accumulate in double, like ggml's scalar fallback (ggml_float); SIMD llama.cpp sums in float lanes.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotF32(float* w, float* a, int n)
    {
        double sum = 0;
        for (var i = 0; i < n; i++) sum += w[i] * a[i];
        return (float)sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotF16(ushort* w, ushort* a, int n)
    {
        double sum = 0;
        for (var i = 0; i < n; i++) sum += Half16.ToFloat(w[i]) * Half16.ToFloat(a[i]);
        return (float)sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotBF16(ushort* w, ushort* a, int n)
    {
        double sum = 0;
        for (var i = 0; i < n; i++) sum += Bf16.ToFloat(w[i]) * Bf16.ToFloat(a[i]);
        return (float)sum;
    }

    private static float H(byte* p) => Half16.ToFloat(*(ushort*)p);

    // block_q8_0: d(2) qs(32) = 34
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ8_0(byte* w, byte* a, int n)
    {
        var sum = 0f;
        for (var b = 0; b < n / 32; b++, w += 34, a += 34)
        {
            var x = (sbyte*)(w + 2);
            var y = (sbyte*)(a + 2);
            var sumi = 0;
            for (var j = 0; j < 32; j++) sumi += x[j] * y[j];
            sum += sumi * (H(w) * H(a));
        }
        return sum;
    }

    // block_q4_0: d(2) qs(16); element j is the low nibble of qs[j], element j+16 the high nibble, both minus 8.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ4_0(byte* w, byte* a, int n)
    {
        var sum = 0f;
        for (var b = 0; b < n / 32; b++, w += 18, a += 34)
        {
            var qs = w + 2;
            var y = (sbyte*)(a + 2);
            var sumi = 0;
            for (var j = 0; j < 16; j++)
            {
                sumi += ((qs[j] & 0x0F) - 8) * y[j] + ((qs[j] >> 4) - 8) * y[j + 16];
            }
            sum += sumi * (H(w) * H(a));
        }
        return sum;
    }

    // block_q4_1: d(2) m(2) qs(16) against block_q8_1: d(2) s(2) qs(32).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ4_1(byte* w, byte* a, int n)
    {
        var sum = 0f;
        for (var b = 0; b < n / 32; b++, w += 20, a += 36)
        {
            var qs = w + 4;
            var y = (sbyte*)(a + 4);
            var sumi = 0;
            for (var j = 0; j < 16; j++) sumi += (qs[j] & 0x0F) * y[j] + (qs[j] >> 4) * y[j + 16];
            sum += H(w) * H(a) * sumi + H(w + 2) * H(a + 2);
        }
        return sum;
    }

    // block_q5_0: d(2) qh(4) qs(16); bit j of qh is the fifth bit of element j.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ5_0(byte* w, byte* a, int n)
    {
        var sum = 0f;
        for (var b = 0; b < n / 32; b++, w += 22, a += 34)
        {
            var qh = *(uint*)(w + 2);
            var qs = w + 6;
            var y = (sbyte*)(a + 2);
            var sumi = 0;
            for (var j = 0; j < 16; j++)
            {
                var h0 = (int)((qh >> j) << 4) & 0x10;
                var h1 = (int)(qh >> (j + 12)) & 0x10;
                sumi += (((qs[j] & 0x0F) | h0) - 16) * y[j] + (((qs[j] >> 4) | h1) - 16) * y[j + 16];
            }
            sum += sumi * (H(w) * H(a));
        }
        return sum;
    }

    // block_q5_1: d(2) m(2) qh(4) qs(16) against block_q8_1.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ5_1(byte* w, byte* a, int n)
    {
        var sum = 0f;
        for (var b = 0; b < n / 32; b++, w += 24, a += 36)
        {
            var qh = *(uint*)(w + 4);
            var qs = w + 8;
            var y = (sbyte*)(a + 4);
            var sumi = 0;
            for (var j = 0; j < 16; j++)
            {
                var h0 = (int)((qh >> j) << 4) & 0x10;
                var h1 = (int)(qh >> (j + 12)) & 0x10;
                sumi += ((qs[j] & 0x0F) | h0) * y[j] + ((qs[j] >> 4) | h1) * y[j + 16];
            }
            sum += H(w) * H(a) * sumi + H(w + 2) * H(a + 2);
        }
        return sum;
    }

    // block_iq4_nl: d(2) qs(16), codes index the non-linear codebook.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotIq4Nl(byte* w, byte* a, int n)
    {
        var sum = 0f;
        var values = Iq4Values;
        for (var b = 0; b < n / 32; b++, w += 18, a += 34)
        {
            var qs = w + 2;
            var y = (sbyte*)(a + 2);
            int sumi1 = 0, sumi2 = 0;
            for (var j = 0; j < 16; j++)
            {
                sumi1 += values[qs[j] & 0x0F] * y[j];
                sumi2 += values[qs[j] >> 4] * y[j + 16];
            }
            sum += H(w) * H(a) * (sumi1 + sumi2);
        }
        return sum;
    }
}
