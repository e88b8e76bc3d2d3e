using System.Runtime.CompilerServices;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Reference;

internal static unsafe partial class VecDot
{
    /// <summary>
    /// K-quant (and IQ4_XS) super-blocks against Q8_K. Each weight block is unpacked to 256 signed integer codes, a
    /// signed integer scale and an unsigned integer min per group of 16 (groups of 32 repeat theirs), so that
    /// value = d · scale · code − dmin · min. Then, per super-block and as in the generic ggml vec_dots,
    /// result += d·d8 · Σ scale·(codes·q8) − dmin·d8 · Σ min·bsum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotK(GgmlType type, byte* w, byte* a, int n)
    {
        var blockBytes = GgmlTypeInfo.Get(type).TypeSize;
        sbyte* codes = stackalloc sbyte[256];
        int* scales = stackalloc int[16];
        int* mins = stackalloc int[16];
        var sum = 0f;
        for (var b = 0; b < n / 256; b++, w += blockBytes, a += ActivationQuant.Q8_KBlockBytes)
        {
            float d, dmin;
            switch (type)
            {
                case GgmlType.Q2_K: UnpackQ2K(w, codes, scales, mins, out d, out dmin); break;
                case GgmlType.Q3_K: UnpackQ3K(w, codes, scales, mins, out d, out dmin); break;
                case GgmlType.Q4_K: UnpackQ4K(w, codes, scales, mins, out d, out dmin, fiveBit: false); break;
                case GgmlType.Q5_K: UnpackQ4K(w, codes, scales, mins, out d, out dmin, fiveBit: true); break;
                case GgmlType.Q6_K: UnpackQ6K(w, codes, scales, mins, out d, out dmin); break;
                default: UnpackIq4Xs(w, codes, scales, mins, out d, out dmin); break;
            }
            var d8 = *(float*)a;
            var q8 = (sbyte*)(a + 4);
            var bsums = (short*)(a + 4 + 256);
            int sumScaled = 0, sumMins = 0;
            for (var g = 0; g < 16; g++)
            {
                var dot = 0;
                for (var j = 0; j < 16; j++) dot += codes[g * 16 + j] * q8[g * 16 + j];
                sumScaled += scales[g] * dot;
                sumMins += mins[g] * bsums[g];
            }
            sum += d * d8 * sumScaled - dmin * d8 * sumMins;
        }
        return sum;
    }

    // block_q2_K: scales(16) qs(64) d(2) dmin(2). Scale byte: low nibble scale, high nibble min. Codes are 2-bit,
    // four planes per 32 bytes of qs (shifts 0,2,4,6), each plane two groups of 16.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnpackQ2K(byte* w, sbyte* codes, int* scales, int* mins, out float d, out float dmin)
    {
        var sc = w;
        var qs = w + 16;
        d = H(w + 80);
        dmin = H(w + 82);
        for (var g = 0; g < 16; g++)
        {
            scales[g] = sc[g] & 0x0F;
            mins[g] = sc[g] >> 4;
        }
        var o = 0;
        for (var half = 0; half < 2; half++)
        {
            var q = qs + 32 * half;
            for (var shift = 0; shift < 8; shift += 2)
            {
                for (var l = 0; l < 32; l++) codes[o++] = (sbyte)((q[l] >> shift) & 3);
            }
        }
    }

    // block_q3_K: hmask(32) qs(64) scales(12) d(2). Sixteen 6-bit scales biased by 32; code = 2 low bits minus 4
    // when the hmask bit is clear.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnpackQ3K(byte* w, sbyte* codes, int* scales, int* mins, out float d, out float dmin)
    {
        var hm = w;
        var qs = w + 32;
        var sc = w + 96;
        d = H(w + 108);
        dmin = 0;
        // Unpacking as ggml's dequantize_row_q3_K (kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f).
        uint* aux = stackalloc uint[4];
        aux[0] = *(uint*)sc; aux[1] = *(uint*)(sc + 4); aux[2] = *(uint*)(sc + 8);
        var tmp = aux[2];
        aux[2] = ((aux[0] >> 4) & 0x0f0f0f0fu) | (((tmp >> 4) & 0x03030303u) << 4);
        aux[3] = ((aux[1] >> 4) & 0x0f0f0f0fu) | (((tmp >> 6) & 0x03030303u) << 4);
        aux[0] = (aux[0] & 0x0f0f0f0fu) | (((tmp >> 0) & 0x03030303u) << 4);
        aux[1] = (aux[1] & 0x0f0f0f0fu) | (((tmp >> 2) & 0x03030303u) << 4);
        var s8 = (sbyte*)aux;
        for (var g = 0; g < 16; g++)
        {
            scales[g] = s8[g] - 32;
            mins[g] = 0;
        }
        var o = 0;
        var m = 1;
        for (var half = 0; half < 2; half++)
        {
            var q = qs + 32 * half;
            for (var shift = 0; shift < 8; shift += 2, m <<= 1)
            {
                for (var l = 0; l < 32; l++) codes[o++] = (sbyte)(((q[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
            }
        }
    }

    // ggml-quants.c get_scale_min_k4: eight 6-bit scales and mins packed in 12 bytes.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    // block_q4_K: d(2) dmin(2) scales(12) qs(128) = 144; block_q5_K adds qh(32) before qs = 176.
    // Each 32 bytes of qs hold two groups of 32: low nibbles then high nibbles.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnpackQ4K(byte* w, sbyte* codes, int* scales, int* mins, out float d, out float dmin, bool fiveBit)
    {
        d = H(w);
        dmin = H(w + 2);
        var sc = w + 4;
        var qh = w + 16;
        var qs = fiveBit ? w + 48 : w + 16;
        for (var j = 0; j < 8; j++)
        {
            ScaleMinK4(j, sc, out var s, out var m);
            scales[2 * j] = scales[2 * j + 1] = s;
            mins[2 * j] = mins[2 * j + 1] = m;
        }
        for (var chunk = 0; chunk < 4; chunk++)
        {
            var q = qs + 32 * chunk;
            for (var l = 0; l < 32; l++)
            {
                var lo = q[l] & 0x0F;
                var hi = q[l] >> 4;
                if (fiveBit)
                {
                    lo += (qh[l] & (1 << (2 * chunk))) != 0 ? 16 : 0;
                    hi += (qh[l] & (1 << (2 * chunk + 1))) != 0 ? 16 : 0;
                }
                codes[64 * chunk + l] = (sbyte)lo;
                codes[64 * chunk + 32 + l] = (sbyte)hi;
            }
        }
    }

    // block_q6_K: ql(128) qh(64) scales(16, int8) d(2) = 210. Codes are 6-bit minus 32.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnpackQ6K(byte* w, sbyte* codes, int* scales, int* mins, out float d, out float dmin)
    {
        var sc = (sbyte*)(w + 192);
        d = H(w + 208);
        dmin = 0;
        for (var g = 0; g < 16; g++)
        {
            scales[g] = sc[g];
            mins[g] = 0;
        }
        for (var half = 0; half < 2; half++)
        {
            var ql = w + 64 * half;
            var qh = w + 128 + 32 * half;
            var y = codes + 128 * half;
            for (var l = 0; l < 32; l++)
            {
                y[l] = (sbyte)(((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32);
                y[l + 32] = (sbyte)(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
                y[l + 64] = (sbyte)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                y[l + 96] = (sbyte)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
    }

    // block_iq4_xs: d(2) scales_h(2) scales_l(4) qs(128) = 136. Eight groups of 32 with 6-bit scales biased by 32.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnpackIq4Xs(byte* w, sbyte* codes, int* scales, int* mins, out float d, out float dmin)
    {
        d = H(w);
        dmin = 0;
        var scalesH = *(ushort*)(w + 2);
        var scalesL = w + 4;
        var qs = w + 8;
        var values = Iq4Values;
        for (var ib = 0; ib < 8; ib++)
        {
            var ls = ((scalesL[ib / 2] >> (4 * (ib % 2))) & 0x0F) | (((scalesH >> (2 * ib)) & 3) << 4);
            scales[2 * ib] = scales[2 * ib + 1] = ls - 32;
            mins[2 * ib] = mins[2 * ib + 1] = 0;
            var q = qs + 16 * ib;
            for (var j = 0; j < 16; j++)
            {
                codes[32 * ib + j] = values[q[j] & 0x0F];
                codes[32 * ib + 16 + j] = values[q[j] >> 4];
            }
        }
    }
}
