using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Reference;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// Activation quantization for the CPU set: Q8_0 and Q8_K eight lanes at a time, bit-identical to
/// <see cref="ActivationQuant"/>; the other activation types go to it.
/// <para>
/// Why: every quantized matmul first quantizes its input rows, and the scalar loop (a round and a max per element)
/// took about 2.5 ns an element. A batch-8 decode step of the Qwen2.5-0.5B-shaped Q4_0 bench file quantizes 8 × 896
/// values six times a layer and 8 × 4864 once: several milliseconds a step, mostly on the calling thread.
/// </para>
/// <para>
/// Exactness: amax is the same maximum of |x| (vmaxps on non-negative values picks as MathF.Max does; a NaN input
/// is garbage either way); the scale is the same float division; q = x · (127 / amax) is the same float product,
/// rounded half to even by vroundps as MathF.Round(ToEven) does, and |q| ≤ 127 so the saturating packs change nothing.
/// A block whose 127 / amax overflows (subnormal values only) is left to the reference.
/// </para>
/// </summary>
internal static unsafe class SimdActivationQuant
{
    public static void Quantize(GgmlType vecDotType, float* x, byte* y, int n)
    {
        switch (vecDotType)
        {
            case GgmlType.Q8_0: Q8_0(x, y, n); break;
            case GgmlType.Q8_K: Q8_K(x, y, n); break;
            default: ActivationQuant.Quantize(vecDotType, x, y, n); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0(float* x, byte* y, int n)
    {
        if (n % 32 != 0) throw new ArgumentException($"row length {n} is not a multiple of 32");
        for (var b = 0; b < n / 32; b++)
        {
            var xb = x + b * 32;
            var yb = y + (long)b * ActivationQuant.Q8_0BlockBytes;
            if (TryQ8_0Block(xb, out var codes, out var d))
            {
                codes.Store(yb + 2);
                *(ushort*)yb = d;
            }
            else
            {
                ActivationQuant.Quantize(GgmlType.Q8_0, xb, yb, 32);
            }
        }
    }

    /// <summary>
    /// One Q8_0 block of 32 values: its codes in element order and its scale's binary16 bits, as the reference stores
    /// them. False when the block's 127 / amax overflows (amax below 127 / float.MaxValue, subnormal input): what an int
    /// conversion of infinity gives differs between the scalar code and vcvttps2dq, so the reference must decide.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryQ8_0Block(float* xb, out Vector256<byte> codes, out ushort scale)
    {
        var magnitude = Vector256.Create(0x7FFFFFFF).AsSingle();
        var v0 = Vector256.Load(xb);
        var v1 = Vector256.Load(xb + 8);
        var v2 = Vector256.Load(xb + 16);
        var v3 = Vector256.Load(xb + 24);
        var amax = MaxLane(Avx.Max(Avx.Max(v0 & magnitude, v1 & magnitude), Avx.Max(v2 & magnitude, v3 & magnitude)));
        var inverse = amax != 0f ? 127f / amax : 0f;
        if (float.IsInfinity(inverse))
        {
            codes = default;
            scale = 0;
            return false;
        }
        var id = Vector256.Create(inverse);
        codes = Codes(Round(v0, id), Round(v1, id), Round(v2, id), Round(v3, id));
        scale = Half16.FromFloat(amax / 127f);
        return true;
    }

    /// <summary>
    /// Q8_K as the reference: max is the first value of the largest magnitude, q = min(127, round-half-even(−127 / max ·
    /// x)), d = 1 / iscale, and each 16-group's Σq. The products are the same float products, and the group sums come
    /// from the stored bytes (vpsadbw of q + 128 against zero, less 16 · 128).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_K(float* x, byte* y, int n)
    {
        if (n % 256 != 0) throw new ArgumentException($"row length {n} is not a multiple of 256");
        var magnitude = Vector256.Create(0x7FFFFFFF).AsSingle();
        var top = Vector256.Create(127);
        var bias = Vector256.Create((byte)0x80);
        for (var b = 0; b < n / 256; b++)
        {
            var xb = x + b * 256;
            var yb = y + (long)b * ActivationQuant.Q8_KBlockBytes;
            var qs = yb + 4;
            var sums = (short*)(yb + 4 + 256);
            var m = Vector256<float>.Zero;
            for (var j = 0; j < 256; j += 8) m = Avx.Max(m, Vector256.Load(xb + j) & magnitude);
            var amax = MaxLane(m);
            if (amax == 0f)
            {
                *(float*)yb = 0f;
                new Span<byte>(qs, 256 + 32).Clear();
                continue;
            }
            var first = 0;
            var wanted = Vector256.Create(amax);
            for (var j = 0; j < 256; j += 8)
            {
                var hits = Vector256.Equals(Vector256.Load(xb + j) & magnitude, wanted).ExtractMostSignificantBits();
                if (hits == 0) continue;
                first = j + System.Numerics.BitOperations.TrailingZeroCount(hits);
                break;
            }
            var iscale = -127f / xb[first];
            if (!float.IsFinite(iscale))
            {
                // A subnormal max: the scale overflows, and the scalar and vector int conversions of infinity differ.
                ActivationQuant.Quantize(GgmlType.Q8_K, xb, yb, 256);
                continue;
            }
            var vs = Vector256.Create(iscale);
            for (var j = 0; j < 256; j += 32)
            {
                var packed = Codes(
                    Vector256.Min(Round(Vector256.Load(xb + j), vs), top),
                    Vector256.Min(Round(Vector256.Load(xb + j + 8), vs), top),
                    Vector256.Min(Round(Vector256.Load(xb + j + 16), vs), top),
                    Vector256.Min(Round(Vector256.Load(xb + j + 24), vs), top));
                packed.Store(qs + j);
                // vpsadbw sums each 8 bytes of q + 128 into a 64-bit lane: lanes 0-1 are group j / 16, lanes 2-3 the next.
                var sad = Avx2.SumAbsoluteDifferences(packed ^ bias, Vector256<byte>.Zero).AsInt64();
                sums[j / 16] = (short)(sad.GetElement(0) + sad.GetElement(1) - 16 * 128);
                sums[j / 16 + 1] = (short)(sad.GetElement(2) + sad.GetElement(3) - 16 * 128);
            }
            *(float*)yb = 1f / iscale;
        }
    }

    /// <summary>The largest of eight non-negative lanes (vmaxps, as the loops that fed it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxLane(Vector256<float> m)
    {
        var h = Sse.Max(m.GetLower(), m.GetUpper());
        h = Sse.Max(h, Sse.Shuffle(h, h, 0b_01_00_11_10));
        h = Sse.Max(h, Sse.Shuffle(h, h, 0b_10_11_00_01));
        return h.ToScalar();
    }

    /// <summary>x · scale rounded half to even, as int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Round(Vector256<float> x, Vector256<float> scale) =>
        Avx.ConvertToVector256Int32WithTruncation(Avx.RoundToNearestInteger(x * scale));

    /// <summary>
    /// 32 int32 codes in [−128, 127] as bytes in element order. PackSignedSaturate works within 128-bit halves, so dword
    /// k of the packed bytes holds elements of vector k % 4, half k / 4; the permute puts them back in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Codes(Vector256<int> q0, Vector256<int> q1, Vector256<int> q2, Vector256<int> q3) =>
        Avx2.PermuteVar8x32(Avx2.PackSignedSaturate(Avx2.PackSignedSaturate(q0, q1), Avx2.PackSignedSaturate(q2, q3)).AsInt32(),
            Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsByte();
}
