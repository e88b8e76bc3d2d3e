using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Reference;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// AVX2 dot products of one quantized weight row with one activation row in its vec_dot type, bit-identical to
/// <see cref="VecDot"/>: every block's integer dot product is computed exactly with pmaddubsw/pmaddwd (no lane can
/// saturate: |code| ≤ 63 or 127 against |q8| ≤ 127 gives pair sums ≤ 32 258), and the float combination per block and
/// the order of the float additions across blocks are the reference's, so the SIMD work is all integer.
/// </summary>
internal static unsafe class SimdVecDot
{
    /// <summary>binary16 bits → float for every bit pattern (256 KiB, stays in L2), built from <see cref="Half16"/>.</summary>
    private static readonly float* F16 = BuildF16Table();

    public static bool IsAccelerated(GgmlType type) => Avx2.IsSupported && type is GgmlType.Q8_0 or GgmlType.Q4_0
        or GgmlType.Q5_0 or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    private static float* BuildF16Table()
    {
        var table = (float*)NativeMemory.AlignedAlloc(65536 * sizeof(float), 64);
        for (var i = 0; i < 65536; i++) table[i] = Half16.ToFloat((ushort)i);
        return table;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float H(byte* p) => F16[*(ushort*)p];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(GgmlType type, byte* w, byte* a, int n) => type switch
    {
        GgmlType.Q8_0 => DotQ8_0(w, a, n),
        GgmlType.Q4_0 => DotQ4_0(w, a, n),
        GgmlType.Q5_0 => DotQ5_0(w, a, n),
        GgmlType.Q4_K => DotQ4K(w, a, n, fiveBit: false),
        GgmlType.Q5_K => DotQ4K(w, a, n, fiveBit: true),
        GgmlType.Q6_K => DotQ6K(w, a, n),
        _ => VecDot.Dot(type, w, a, n),
    };

    /// <summary>Σ x·y per 32 bytes as eight int32 lanes, x and y signed (sign trick: |x| · sign(y, x)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DotSigned(Vector256<sbyte> x, Vector256<sbyte> y)
    {
        var ax = Avx2.Abs(x);
        var sy = Avx2.Sign(y, x);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(ax, sy), Vector256<short>.One);
    }

    /// <summary>The four lane sums of four int32 vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Sum4(Vector256<int> p0, Vector256<int> p1, Vector256<int> p2, Vector256<int> p3)
    {
        var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(p0, p1), Avx2.HorizontalAdd(p2, p3));
        return h.GetLower() + h.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Q4_0Codes(byte* qs)
    {
        var packed = Vector128.Load(qs);
        var lo = packed & Vector128.Create((byte)0x0F);
        var hi = Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & Vector128.Create((byte)0x0F);
        return (Vector256.Create(lo, hi) - Vector256.Create((byte)8)).AsSByte();
    }

    /// <summary>
    /// Signed codes of a block_q5_0: d(2) qh(4) qs(16). Element j is nibble j (low nibbles for 0..15, high for 16..31)
    /// with bit j of qh as its fifth bit, minus 16. The 32 qh bits are spread to one byte each by a byte shuffle and
    /// a per-byte bit test.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Q5_0Codes(byte* block)
    {
        var packed = Vector128.Load(block + 6);
        var lo = packed & Vector128.Create((byte)0x0F);
        var hi = Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & Vector128.Create((byte)0x0F);
        // Each 128-bit lane holds all four qh bytes; lane 0 spreads bytes 0 and 1, lane 1 bytes 2 and 3.
        var spread = Avx2.Shuffle(Vector256.Create(*(uint*)(block + 2)).AsByte(),
            Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        var bit = Vector256.Create(0x8040201008040201UL).AsByte();
        var fifth = Vector256.Equals(spread & bit, bit) & Vector256.Create((byte)0x10);
        return ((Vector256.Create(lo, hi) | fifth) - Vector256.Create((byte)16)).AsSByte();
    }

    // block_q8_0: d(2) qs(32) = 34, against block_q8_0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ8_0(byte* w, byte* a, int n)
    {
        var blocks = n / 32;
        var sum = 0f;
        var b = 0;
        for (; b + 4 <= blocks; b += 4, w += 4 * 34, a += 4 * 34)
        {
            var s = Sum4(
                DotSigned(Vector256.Load((sbyte*)(w + 2)), Vector256.Load((sbyte*)(a + 2))),
                DotSigned(Vector256.Load((sbyte*)(w + 36)), Vector256.Load((sbyte*)(a + 36))),
                DotSigned(Vector256.Load((sbyte*)(w + 70)), Vector256.Load((sbyte*)(a + 70))),
                DotSigned(Vector256.Load((sbyte*)(w + 104)), Vector256.Load((sbyte*)(a + 104))));
            sum += s.GetElement(0) * (H(w) * H(a));
            sum += s.GetElement(1) * (H(w + 34) * H(a + 34));
            sum += s.GetElement(2) * (H(w + 68) * H(a + 68));
            sum += s.GetElement(3) * (H(w + 102) * H(a + 102));
        }
        for (; b < blocks; b++, w += 34, a += 34)
        {
            var sumi = Vector256.Sum(DotSigned(Vector256.Load((sbyte*)(w + 2)), Vector256.Load((sbyte*)(a + 2))));
            sum += sumi * (H(w) * H(a));
        }
        return sum;
    }

    // block_q4_0: d(2) qs(16) = 18; element j is the low nibble of qs[j], element j+16 the high nibble, minus 8.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ4_0(byte* w, byte* a, int n)
    {
        var blocks = n / 32;
        var sum = 0f;
        var b = 0;
        for (; b + 4 <= blocks; b += 4, w += 4 * 18, a += 4 * 34)
        {
            var s = Sum4(
                DotSigned(Q4_0Codes(w + 2), Vector256.Load((sbyte*)(a + 2))),
                DotSigned(Q4_0Codes(w + 20), Vector256.Load((sbyte*)(a + 36))),
                DotSigned(Q4_0Codes(w + 38), Vector256.Load((sbyte*)(a + 70))),
                DotSigned(Q4_0Codes(w + 56), Vector256.Load((sbyte*)(a + 104))));
            sum += s.GetElement(0) * (H(w) * H(a));
            sum += s.GetElement(1) * (H(w + 18) * H(a + 34));
            sum += s.GetElement(2) * (H(w + 36) * H(a + 68));
            sum += s.GetElement(3) * (H(w + 54) * H(a + 102));
        }
        for (; b < blocks; b++, w += 18, a += 34)
        {
            var sumi = Vector256.Sum(DotSigned(Q4_0Codes(w + 2), Vector256.Load((sbyte*)(a + 2))));
            sum += sumi * (H(w) * H(a));
        }
        return sum;
    }

    // block_q5_0: d(2) qh(4) qs(16) = 22, against block_q8_0; the same per-block combination as Q4_0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ5_0(byte* w, byte* a, int n)
    {
        var blocks = n / 32;
        var sum = 0f;
        var b = 0;
        for (; b + 4 <= blocks; b += 4, w += 4 * 22, a += 4 * 34)
        {
            var s = Sum4(
                DotSigned(Q5_0Codes(w), Vector256.Load((sbyte*)(a + 2))),
                DotSigned(Q5_0Codes(w + 22), Vector256.Load((sbyte*)(a + 36))),
                DotSigned(Q5_0Codes(w + 44), Vector256.Load((sbyte*)(a + 70))),
                DotSigned(Q5_0Codes(w + 66), Vector256.Load((sbyte*)(a + 104))));
            sum += s.GetElement(0) * (H(w) * H(a));
            sum += s.GetElement(1) * (H(w + 22) * H(a + 34));
            sum += s.GetElement(2) * (H(w + 44) * H(a + 68));
            sum += s.GetElement(3) * (H(w + 66) * H(a + 102));
        }
        for (; b < blocks; b++, w += 22, a += 34)
        {
            var sumi = Vector256.Sum(DotSigned(Q5_0Codes(w), Vector256.Load((sbyte*)(a + 2))));
            sum += sumi * (H(w) * H(a));
        }
        return sum;
    }

    /// <summary>
    /// block_q4_K: d(2) dmin(2) scales(12) qs(128) = 144; block_q5_K: d dmin scales qh(32) qs(128) = 176. Codes are
    /// unsigned (0..15 / 0..31), so pmaddubsw takes them directly; groups of 32 share a 6-bit scale and min
    /// (ggml get_scale_min_k4). Per super-block, as the reference: sum += d·d8·Σ scale·dot − dmin·d8·Σ min·bsum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ4K(byte* w, byte* a, int n, bool fiveBit)
    {
        var blockBytes = fiveBit ? 176 : 144;
        var sum = 0f;
        var low = Vector256.Create((byte)0x0F);
        for (var b = 0; b < n / 256; b++, w += blockBytes, a += ActivationQuant.Q8_KBlockBytes)
        {
            var d = H(w);
            var dmin = H(w + 2);
            var sc = w + 4;
            var qs = fiveBit ? w + 48 : w + 16;
            var q8 = (sbyte*)(a + 4);
            var bsums = (short*)(a + 4 + 256);
            var qh = fiveBit ? Vector256.Load(w + 16) : default;
            var acc = Vector256<int>.Zero;
            var sumMins = 0;
            for (var chunk = 0; chunk < 4; chunk++)
            {
                int s0, m0, s1, m1;
                ScaleMinK4(2 * chunk, sc, out s0, out m0);
                ScaleMinK4(2 * chunk + 1, sc, out s1, out m1);
                var q = Vector256.Load(qs + 32 * chunk);
                var lo = q & low;
                var hi = Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & low;
                if (fiveBit)
                {
                    var m = Vector256.Create((byte)(1 << (2 * chunk)));
                    var m2 = Vector256.Create((byte)(2 << (2 * chunk)));
                    lo |= Vector256.Equals(qh & m, m) & Vector256.Create((byte)16);
                    hi |= Vector256.Equals(qh & m2, m2) & Vector256.Create((byte)16);
                }
                var plo = Avx2.MultiplyAddAdjacent(lo, Vector256.Load(q8 + 64 * chunk));
                var phi = Avx2.MultiplyAddAdjacent(hi, Vector256.Load(q8 + 64 * chunk + 32));
                acc += Avx2.MultiplyAddAdjacent(plo, Vector256.Create((short)s0));
                acc += Avx2.MultiplyAddAdjacent(phi, Vector256.Create((short)s1));
                var g = bsums + 4 * chunk;
                sumMins += m0 * (g[0] + g[1]) + m1 * (g[2] + g[3]);
            }
            var sumScaled = Vector256.Sum(acc);
            var d8 = *(float*)a;
            sum += d * d8 * sumScaled - dmin * d8 * sumMins;
        }
        return sum;
    }

    // ggml-quants.c get_scale_min_k4: eight 6-bit scales and mins packed in 12 bytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScaleMinK4(int j, byte* q, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = q[j] & 63;
            min = q[j + 4] & 63;
        }
        else
        {
            scale = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
            min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    /// <summary>
    /// block_q6_K: ql(128) qh(64) scales(16, int8) d(2) = 210; codes are 6-bit minus 32 with a signed scale per 16.
    /// The unsigned 6-bit code goes through pmaddubsw and the −32 comes back exactly as −32·Σ scale·bsum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ6K(byte* w, byte* a, int n)
    {
        var sum = 0f;
        var low = Vector256.Create((byte)0x0F);
        var bits45 = Vector256.Create((byte)0x30);
        for (var b = 0; b < n / 256; b++, w += 210, a += ActivationQuant.Q8_KBlockBytes)
        {
            var sc = (sbyte*)(w + 192);
            var d = H(w + 208);
            var q8 = (sbyte*)(a + 4);
            var bsums = (short*)(a + 4 + 256);
            var acc = Vector256<int>.Zero;
            for (var half = 0; half < 2; half++)
            {
                var ql0 = Vector256.Load(w + 64 * half);
                var ql1 = Vector256.Load(w + 64 * half + 32);
                var qh = Vector256.Load(w + 128 + 32 * half).AsUInt16();
                var c0 = (ql0 & low) | (Vector256.ShiftLeft(qh, 4).AsByte() & bits45);
                var c1 = (ql1 & low) | (Vector256.ShiftLeft(qh, 2).AsByte() & bits45);
                var c2 = (Vector256.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & low) | (qh.AsByte() & bits45);
                var c3 = (Vector256.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & low) | (Vector256.ShiftRightLogical(qh, 2).AsByte() & bits45);
                var y = q8 + 128 * half;
                var s = sc + 8 * half;
                acc += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c0, Vector256.Load(y)), Scales(s[0], s[1]));
                acc += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c1, Vector256.Load(y + 32)), Scales(s[2], s[3]));
                acc += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c2, Vector256.Load(y + 64)), Scales(s[4], s[5]));
                acc += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c3, Vector256.Load(y + 96)), Scales(s[6], s[7]));
            }
            // Σ scale·(code − 32)·q8 = Σ scale·code·q8 − 32·Σ scale·bsum, all in int32.
            var scales16 = Avx2.ConvertToVector256Int16(Vector128.Load(sc));
            var bias = Vector256.Sum(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(bsums)));
            var sumScaled = Vector256.Sum(acc) - 32 * bias;
            var d8 = *(float*)a;
            // The reference also subtracts dmin·d8·Σ min·bsum, which is 0 for Q6_K (x − 0 is x).
            sum += d * d8 * sumScaled;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Scales(sbyte first, sbyte second) =>
        Vector256.Create(Vector128.Create((short)first), Vector128.Create((short)second));
}
