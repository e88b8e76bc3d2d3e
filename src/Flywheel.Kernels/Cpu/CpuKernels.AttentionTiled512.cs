using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// The 512-bit halves of the tiled attention (the "avx512" set). Lanes hold independent key positions (scores) or
/// independent head dimensions (values), and each lane runs the very multiply-add chain of the 256-bit path, so the
/// results are the same bit for bit; only the number of instructions per tile drops.
/// </summary>
public sealed unsafe partial class CpuKernels
{
    /// <summary>
    /// One query row's step over a tile for the <paramref name="group"/> query heads of a KV head (queries and their
    /// accumulators, maxima and sums consecutive): heads in threes while an odd number is left, then in pairs, so that
    /// each key and value vector loaded feeds several multiply-adds (a group of 7 goes 3 + 2 + 2).
    /// <paramref name="w"/> holds three tiles of weights.
    /// </summary>
    private static void TiledRowWide(float* kt, float* vf, float* q, int group, int d, int nv, Vector256<float> scale,
        float* acc, float* maxes, float* sums, float* w)
    {
        var w2 = w + KvTile;
        var w3 = w2 + KvTile;
        for (var g = 0; g < group;)
        {
            var left = group - g;
            var qg = q + (long)g * d;
            var ag = acc + (long)g * d;
            if (left == 1)
            {
                TileScoresWide(kt, qg, d, w);
                TileSoftmax(w, nv, scale, ag, maxes + g, sums + g, d);
                AccumulateValuesWide(ag, vf, w, nv, d);
                g++;
            }
            else if (left % 2 == 1)
            {
                TileScores3Wide(kt, qg, d, nv, w);
                TileSoftmax(w, nv, scale, ag, maxes + g, sums + g, d);
                TileSoftmax(w2, nv, scale, ag + d, maxes + g + 1, sums + g + 1, d);
                TileSoftmax(w3, nv, scale, ag + 2 * d, maxes + g + 2, sums + g + 2, d);
                AccumulateValues3Wide(ag, vf, w, nv, d);
                g += 3;
            }
            else
            {
                // Both queries' weights first, then one pass over the values feeds both accumulators.
                TileScores2Wide(kt, qg, qg + d, d, nv, w, w2);
                TileSoftmax(w, nv, scale, ag, maxes + g, sums + g, d);
                TileSoftmax(w2, nv, scale, ag + d, maxes + g + 1, sums + g + 1, d);
                AccumulateValues2Wide(ag, ag + d, vf, w, w2, nv, d);
                g += 2;
            }
        }
    }

    /// <summary>
    /// Scores of three consecutive queries (<paramref name="q"/>, d floats apart) into three consecutive tiles of
    /// <paramref name="scores"/>, 32 positions at a time (six chains; the second 32 only when the row sees them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileScores3Wide(float* kt, float* q, int d, int nv, float* scores)
    {
        var qa = q;
        var qb = q + d;
        var qc = q + 2 * d;
        for (var half = 0; half < nv; half += 32)
        {
            var a0 = Vector512<float>.Zero;
            var a1 = Vector512<float>.Zero;
            var b0 = Vector512<float>.Zero;
            var b1 = Vector512<float>.Zero;
            var c0 = Vector512<float>.Zero;
            var c1 = Vector512<float>.Zero;
            var k = kt + half;
            for (var i = 0; i < d; i++, k += KvTile)
            {
                var k0 = Vector512.Load(k);
                var k1 = Vector512.Load(k + 16);
                var x = Vector512.Create(qa[i]);
                a0 = Vector512.FusedMultiplyAdd(k0, x, a0);
                a1 = Vector512.FusedMultiplyAdd(k1, x, a1);
                var y = Vector512.Create(qb[i]);
                b0 = Vector512.FusedMultiplyAdd(k0, y, b0);
                b1 = Vector512.FusedMultiplyAdd(k1, y, b1);
                var z = Vector512.Create(qc[i]);
                c0 = Vector512.FusedMultiplyAdd(k0, z, c0);
                c1 = Vector512.FusedMultiplyAdd(k1, z, c1);
            }
            a0.Store(scores + half);
            a1.Store(scores + half + 16);
            b0.Store(scores + KvTile + half);
            b1.Store(scores + KvTile + half + 16);
            c0.Store(scores + 2 * KvTile + half);
            c1.Store(scores + 2 * KvTile + half + 16);
        }
    }

    /// <summary>
    /// <see cref="AccumulateValuesWide"/> for three consecutive accumulators (d floats apart) with weights in three
    /// consecutive tiles: 32 dimensions at a time, each value vector loaded feeding three chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateValues3Wide(float* acc, float* v, float* w, int n, int d)
    {
        var i = 0;
        for (; i + 32 <= d; i += 32)
        {
            var a0 = Vector512.Load(acc + i);
            var a1 = Vector512.Load(acc + i + 16);
            var b0 = Vector512.Load(acc + d + i);
            var b1 = Vector512.Load(acc + d + i + 16);
            var c0 = Vector512.Load(acc + 2 * d + i);
            var c1 = Vector512.Load(acc + 2 * d + i + 16);
            var vr = v + i;
            for (var j = 0; j < n; j++, vr += d)
            {
                var v0 = Vector512.Load(vr);
                var v1 = Vector512.Load(vr + 16);
                var x = Vector512.Create(w[j]);
                a0 = Vector512.FusedMultiplyAdd(v0, x, a0);
                a1 = Vector512.FusedMultiplyAdd(v1, x, a1);
                var y = Vector512.Create(w[KvTile + j]);
                b0 = Vector512.FusedMultiplyAdd(v0, y, b0);
                b1 = Vector512.FusedMultiplyAdd(v1, y, b1);
                var z = Vector512.Create(w[2 * KvTile + j]);
                c0 = Vector512.FusedMultiplyAdd(v0, z, c0);
                c1 = Vector512.FusedMultiplyAdd(v1, z, c1);
            }
            a0.Store(acc + i);
            a1.Store(acc + i + 16);
            b0.Store(acc + d + i);
            b1.Store(acc + d + i + 16);
            c0.Store(acc + 2 * d + i);
            c1.Store(acc + 2 * d + i + 16);
        }
        if (i < d)
        {
            for (var m = 0; m < 3; m++) AccumulateValuesWide(acc + m * d + i, v + i, w + m * KvTile, n, d - i, d);
        }
    }

    /// <summary><see cref="TileScores"/> with 16 positions per vector: the 64 chains in four registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileScoresWide(float* kt, float* q, int d, float* scores)
    {
        var a0 = Vector512<float>.Zero;
        var a1 = Vector512<float>.Zero;
        var a2 = Vector512<float>.Zero;
        var a3 = Vector512<float>.Zero;
        var k = kt;
        for (var i = 0; i < d; i++, k += KvTile)
        {
            var b = Vector512.Create(q[i]);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(k), b, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(k + 16), b, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(k + 32), b, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(k + 48), b, a3);
        }
        a0.Store(scores);
        a1.Store(scores + 16);
        a2.Store(scores + 32);
        a3.Store(scores + 48);
    }

    /// <summary>
    /// <see cref="TileScores2"/> with 16 positions per vector: all 64 positions in one pass when the row sees more
    /// than 32 of them (eight chains), else only the first 32 (four chains).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileScores2Wide(float* kt, float* qa, float* qb, int d, int nv, float* scoresA, float* scoresB)
    {
        var a0 = Vector512<float>.Zero;
        var a1 = Vector512<float>.Zero;
        var b0 = Vector512<float>.Zero;
        var b1 = Vector512<float>.Zero;
        var k = kt;
        if (nv > 32)
        {
            var a2 = Vector512<float>.Zero;
            var a3 = Vector512<float>.Zero;
            var b2 = Vector512<float>.Zero;
            var b3 = Vector512<float>.Zero;
            for (var i = 0; i < d; i++, k += KvTile)
            {
                var x = Vector512.Create(qa[i]);
                var y = Vector512.Create(qb[i]);
                var k0 = Vector512.Load(k);
                var k1 = Vector512.Load(k + 16);
                var k2 = Vector512.Load(k + 32);
                var k3 = Vector512.Load(k + 48);
                a0 = Vector512.FusedMultiplyAdd(k0, x, a0);
                b0 = Vector512.FusedMultiplyAdd(k0, y, b0);
                a1 = Vector512.FusedMultiplyAdd(k1, x, a1);
                b1 = Vector512.FusedMultiplyAdd(k1, y, b1);
                a2 = Vector512.FusedMultiplyAdd(k2, x, a2);
                b2 = Vector512.FusedMultiplyAdd(k2, y, b2);
                a3 = Vector512.FusedMultiplyAdd(k3, x, a3);
                b3 = Vector512.FusedMultiplyAdd(k3, y, b3);
            }
            a2.Store(scoresA + 32);
            a3.Store(scoresA + 48);
            b2.Store(scoresB + 32);
            b3.Store(scoresB + 48);
        }
        else
        {
            for (var i = 0; i < d; i++, k += KvTile)
            {
                var x = Vector512.Create(qa[i]);
                var y = Vector512.Create(qb[i]);
                var k0 = Vector512.Load(k);
                var k1 = Vector512.Load(k + 16);
                a0 = Vector512.FusedMultiplyAdd(k0, x, a0);
                b0 = Vector512.FusedMultiplyAdd(k0, y, b0);
                a1 = Vector512.FusedMultiplyAdd(k1, x, a1);
                b1 = Vector512.FusedMultiplyAdd(k1, y, b1);
            }
        }
        a0.Store(scoresA);
        a1.Store(scoresA + 16);
        b0.Store(scoresB);
        b1.Store(scoresB + 16);
    }

    /// <summary>
    /// <see cref="AccumulateValuesWide"/> for two queries over the same tile: each value vector loaded feeds both
    /// accumulators (one load per two multiply-adds instead of one per one), each accumulator's chain unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateValues2Wide(float* accA, float* accB, float* v, float* wA, float* wB, int n, int d)
    {
        var i = 0;
        for (; i + 64 <= d; i += 64)
        {
            var a0 = Vector512.Load(accA + i);
            var a1 = Vector512.Load(accA + i + 16);
            var a2 = Vector512.Load(accA + i + 32);
            var a3 = Vector512.Load(accA + i + 48);
            var b0 = Vector512.Load(accB + i);
            var b1 = Vector512.Load(accB + i + 16);
            var b2 = Vector512.Load(accB + i + 32);
            var b3 = Vector512.Load(accB + i + 48);
            var vr = v + i;
            for (var j = 0; j < n; j++, vr += d)
            {
                var p = Vector512.Create(wA[j]);
                var r = Vector512.Create(wB[j]);
                var v0 = Vector512.Load(vr);
                var v1 = Vector512.Load(vr + 16);
                var v2 = Vector512.Load(vr + 32);
                var v3 = Vector512.Load(vr + 48);
                a0 = Vector512.FusedMultiplyAdd(v0, p, a0);
                b0 = Vector512.FusedMultiplyAdd(v0, r, b0);
                a1 = Vector512.FusedMultiplyAdd(v1, p, a1);
                b1 = Vector512.FusedMultiplyAdd(v1, r, b1);
                a2 = Vector512.FusedMultiplyAdd(v2, p, a2);
                b2 = Vector512.FusedMultiplyAdd(v2, r, b2);
                a3 = Vector512.FusedMultiplyAdd(v3, p, a3);
                b3 = Vector512.FusedMultiplyAdd(v3, r, b3);
            }
            a0.Store(accA + i);
            a1.Store(accA + i + 16);
            a2.Store(accA + i + 32);
            a3.Store(accA + i + 48);
            b0.Store(accB + i);
            b1.Store(accB + i + 16);
            b2.Store(accB + i + 32);
            b3.Store(accB + i + 48);
        }
        if (i < d)
        {
            AccumulateValuesWide(accA + i, v + i, wA, n, d - i, d);
            AccumulateValuesWide(accB + i, v + i, wB, n, d - i, d);
        }
    }

    /// <summary>
    /// <see cref="AccumulateValues"/> with 16 head dimensions per vector: 64 at a time in four chains, then 16, then the
    /// 256-bit step for a tail of 8.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateValuesWide(float* acc, float* v, float* w, int n, int d) => AccumulateValuesWide(acc, v, w, n, d, d);

    /// <summary>The first <paramref name="d"/> dimensions of value rows <paramref name="stride"/> floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateValuesWide(float* acc, float* v, float* w, int n, int d, int stride)
    {
        var i = 0;
        for (; i + 64 <= d; i += 64)
        {
            var a0 = Vector512.Load(acc + i);
            var a1 = Vector512.Load(acc + i + 16);
            var a2 = Vector512.Load(acc + i + 32);
            var a3 = Vector512.Load(acc + i + 48);
            var vr = v + i;
            for (var j = 0; j < n; j++, vr += stride)
            {
                var p = Vector512.Create(w[j]);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(vr), p, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(vr + 16), p, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(vr + 32), p, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(vr + 48), p, a3);
            }
            a0.Store(acc + i);
            a1.Store(acc + i + 16);
            a2.Store(acc + i + 32);
            a3.Store(acc + i + 48);
        }
        for (; i + 16 <= d; i += 16)
        {
            var a = Vector512.Load(acc + i);
            var vr = v + i;
            for (var j = 0; j < n; j++, vr += stride) a = Vector512.FusedMultiplyAdd(Vector512.Load(vr), Vector512.Create(w[j]), a);
            a.Store(acc + i);
        }
        for (; i < d; i += 8)
        {
            var a = Vector256.Load(acc + i);
            var vr = v + i;
            for (var j = 0; j < n; j++, vr += stride) a = Vector256.FusedMultiplyAdd(Vector256.Load(vr), Vector256.Create(w[j]), a);
            a.Store(acc + i);
        }
    }
}
