using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Reference;

namespace Flywheel.Kernels.Cpu;

public sealed unsafe partial class CpuKernels
{
    /// <summary>Query rows per chunk of the tiled path: with a head group of 7 that is 112 query vectors sharing each tile.</summary>
    private const int TiledQueryRows = 16;

    private const int KvTile = ReferenceKernels.TiledAttentionTile;

    /// <summary>
    /// The reference's tiled numerics (<see cref="ReferenceKernels.TiledAttentionRows"/> or more query rows) with the
    /// same float multiply-add chains, so scores, rescales and accumulators are bit-identical to it; only the tile's
    /// exp(s − max) is vectorized (Vector256.Exp, within a few ulp of MathF.Exp).
    /// A chunk is TiledQueryRows query rows of one KV head: each 64-position tile of keys and values is converted from
    /// F16 once (keys transposed, so a query's 64 scores are 8 vector accumulators over the head) and then serves every
    /// query head of the group in those rows. Chunks run largest first (the last rows see the most positions).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TiledAttentionChunk(void* context, int chunk)
    {
        ref var job = ref *(AttentionJob*)context;
        var d = job.HeadDim;
        var kvh = chunk % job.KvHeads;
        var tiles = (job.Rows + TiledQueryRows - 1) / TiledQueryRows;
        var t0 = (tiles - 1 - chunk / job.KvHeads) * TiledQueryRows;
        var t1 = Math.Min(job.Rows, t0 + TiledQueryRows);
        var group = job.Heads / job.KvHeads;
        var queries = (t1 - t0) * group;
        var kvStride = (long)job.KvHeads * d;
        var blockMask = (1 << job.BlockShift) - 1;

        // Scratch: keys of a tile transposed [d, tile], values [tile, d], accumulators [queries, d], maxima, sums, weights [3, tile].
        var kt = AttentionScratch(2 * KvTile * d + queries * d + 2 * queries + 3 * KvTile);
        var vf = kt + KvTile * d;
        var acc = vf + KvTile * d;
        var maxes = acc + queries * d;
        var sums = maxes + queries;
        var weights = sums + queries;
        var weights2 = weights + KvTile;
        new Span<float>(acc, queries * d).Clear();
        new Span<float>(maxes, queries).Fill(float.NegativeInfinity);
        new Span<float>(sums, queries).Clear();

        var end = 0;
        for (var t = t0; t < t1; t++) end = Math.Max(end, job.Positions[t] + 1);
        var scale = Vector256.Create(job.Scale);
        for (var c = 0; c < end; c += KvTile)
        {
            var n = Math.Min(KvTile, end - c);
            var j8 = n & ~7;
            for (var j = 0; j < j8; j += 8) ConvertKeys8(ref job, c + j, kvh, blockMask, kvStride, kt + j, vf + j * d);
            for (var j = j8; j < n; j++)
            {
                var p = c + j;
                var row = (long)((job.BlockTable[p >> job.BlockShift] << job.BlockShift) | (p & blockMask)) * kvStride + kvh * d;
                for (var i = 0; i < d; i += 8)
                {
                    var k = HalfToFloat(Vector128.Load(job.Keys + row + i));
                    for (var l = 0; l < 8; l++) kt[(i + l) * KvTile + j] = k.GetElement(l);
                    HalfToFloat(Vector128.Load(job.Values + row + i)).Store(vf + j * d + i);
                }
            }
            if (n < KvTile)
            {
                for (var i = 0; i < d; i++) new Span<float>(kt + i * KvTile + n, KvTile - n).Clear();
            }

            for (var t = t0; t < t1; t++)
            {
                var visible = job.Positions[t] + 1 - c;
                if (visible <= 0) continue;
                var nv = Math.Min(KvTile, visible);
                if (job.Wide)
                {
                    var first = (t - t0) * group;
                    TiledRowWide(kt, vf, job.Query + ((long)t * job.Heads + kvh * group) * d, group, d, nv, scale,
                        acc + (long)first * d, maxes + first, sums + first, weights);
                    continue;
                }
                // Query heads in pairs: one pass over the transposed keys serves both (fewer loads per multiply-add).
                for (var g = 0; g < group; g += 2)
                {
                    var qi = (t - t0) * group + g;
                    var q = job.Query + ((long)t * job.Heads + kvh * group + g) * d;
                    if (g + 1 < group)
                    {
                        TileScores2(kt, q, q + d, d, nv, weights, weights2);
                        SoftmaxAndValues(weights, nv, scale, acc + (long)qi * d, maxes + qi, sums + qi, vf, d);
                        SoftmaxAndValues(weights2, nv, scale, acc + (long)(qi + 1) * d, maxes + qi + 1, sums + qi + 1, vf, d);
                    }
                    else
                    {
                        TileScores(kt, q, d, weights);
                        SoftmaxAndValues(weights, nv, scale, acc + (long)qi * d, maxes + qi, sums + qi, vf, d);
                    }
                }
            }
        }

        for (var t = t0; t < t1; t++)
        {
            for (var g = 0; g < group; g++)
            {
                var qi = (t - t0) * group + g;
                var inv = Vector256.Create(sums[qi] == 0f ? 0f : 1f / sums[qi]);
                var dst = job.Output + ((long)t * job.Heads + kvh * group + g) * d;
                for (var i = 0; i < d; i += 8) (Vector256.Load(acc + (long)qi * d + i) * inv).Store(dst + i);
            }
        }
    }

    /// <summary>
    /// Positions p..p+7 of the tile: keys converted from F16 and transposed eight dimensions at a time with an 8×8
    /// shuffle (into <paramref name="kt"/>, rows KvTile floats apart), values converted as they lie.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ConvertKeys8(ref AttentionJob job, int p, int kvh, int blockMask, long kvStride, float* kt, float* vf)
    {
        var d = job.HeadDim;
        var rows = stackalloc long[8];
        for (var m = 0; m < 8; m++)
        {
            var q = p + m;
            rows[m] = (long)((job.BlockTable[q >> job.BlockShift] << job.BlockShift) | (q & blockMask)) * kvStride + kvh * d;
        }
        for (var i = 0; i < d; i += 8)
        {
            var r0 = HalfToFloat(Vector128.Load(job.Keys + rows[0] + i));
            var r1 = HalfToFloat(Vector128.Load(job.Keys + rows[1] + i));
            var r2 = HalfToFloat(Vector128.Load(job.Keys + rows[2] + i));
            var r3 = HalfToFloat(Vector128.Load(job.Keys + rows[3] + i));
            var r4 = HalfToFloat(Vector128.Load(job.Keys + rows[4] + i));
            var r5 = HalfToFloat(Vector128.Load(job.Keys + rows[5] + i));
            var r6 = HalfToFloat(Vector128.Load(job.Keys + rows[6] + i));
            var r7 = HalfToFloat(Vector128.Load(job.Keys + rows[7] + i));
            var t0 = Avx.UnpackLow(r0, r1);
            var t1 = Avx.UnpackHigh(r0, r1);
            var t2 = Avx.UnpackLow(r2, r3);
            var t3 = Avx.UnpackHigh(r2, r3);
            var t4 = Avx.UnpackLow(r4, r5);
            var t5 = Avx.UnpackHigh(r4, r5);
            var t6 = Avx.UnpackLow(r6, r7);
            var t7 = Avx.UnpackHigh(r6, r7);
            // u0..u3: dimensions 0..3 of positions 0..3 (low half) and 4..7 of them (high half); u4..u7 the same for positions 4..7.
            var u0 = Avx.Shuffle(t0, t2, 0x44);
            var u1 = Avx.Shuffle(t0, t2, 0xEE);
            var u2 = Avx.Shuffle(t1, t3, 0x44);
            var u3 = Avx.Shuffle(t1, t3, 0xEE);
            var u4 = Avx.Shuffle(t4, t6, 0x44);
            var u5 = Avx.Shuffle(t4, t6, 0xEE);
            var u6 = Avx.Shuffle(t5, t7, 0x44);
            var u7 = Avx.Shuffle(t5, t7, 0xEE);
            var k = kt + i * KvTile;
            Avx.Permute2x128(u0, u4, 0x20).Store(k);
            Avx.Permute2x128(u1, u5, 0x20).Store(k + KvTile);
            Avx.Permute2x128(u2, u6, 0x20).Store(k + 2 * KvTile);
            Avx.Permute2x128(u3, u7, 0x20).Store(k + 3 * KvTile);
            Avx.Permute2x128(u0, u4, 0x31).Store(k + 4 * KvTile);
            Avx.Permute2x128(u1, u5, 0x31).Store(k + 5 * KvTile);
            Avx.Permute2x128(u2, u6, 0x31).Store(k + 6 * KvTile);
            Avx.Permute2x128(u3, u7, 0x31).Store(k + 7 * KvTile);
        }
        for (var m = 0; m < 8; m++)
        {
            for (var i = 0; i < d; i += 8) HalfToFloat(Vector128.Load(job.Values + rows[m] + i)).Store(vf + m * d + i);
        }
    }

    /// <summary>
    /// One query's step over a tile whose raw scores are in <paramref name="weights"/>: scale, mask positions from
    /// <paramref name="nv"/> on, move the running maximum (rescaling accumulator and sum), exponentiate, add the tile's
    /// sum, and accumulate the weighted values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SoftmaxAndValues(float* weights, int nv, Vector256<float> scale, float* acc, float* maxSlot, float* sumSlot, float* vf, int d)
    {
        TileSoftmax(weights, nv, scale, acc, maxSlot, sumSlot, d);
        AccumulateValues(acc, vf, weights, nv, d);
    }

    /// <summary>
    /// The softmax half of <see cref="SoftmaxAndValues"/>: leaves the tile's weights exp(s − max) in
    /// <paramref name="weights"/> (zero from <paramref name="nv"/> on) with the accumulator and sum already rescaled.
    /// Both kernel widths take it as it is (Vector512.Exp is far slower here than two Vector256.Exp), so the weights
    /// and sums are the same in both.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileSoftmax(float* weights, int nv, Vector256<float> scale, float* acc, float* maxSlot, float* sumSlot, int d)
    {
        var vectors = (nv + 7) / 8;
        var vmax = Vector256.Create(float.NegativeInfinity);
        for (var r = 0; r < vectors; r++)
        {
            var s = Vector256.Load(weights + r * 8) * scale;
            s = Vector256.ConditionalSelect(Visible(nv - r * 8), s, Vector256.Create(float.NegativeInfinity));
            s.Store(weights + r * 8);
            vmax = Vector256.Max(vmax, s);
        }
        var tileMax = HorizontalMax(vmax);
        var max = *maxSlot;
        if (tileMax > max)
        {
            var ms = MathF.Exp(max - tileMax);
            var vms = Vector256.Create(ms);
            for (var i = 0; i < d; i += 8) (Vector256.Load(acc + i) * vms).Store(acc + i);
            *sumSlot *= ms;
            *maxSlot = max = tileMax;
        }
        var vm = Vector256.Create(max);
        var total = Vector256<double>.Zero;
        for (var r = 0; r < vectors; r++)
        {
            var e = Vector256.Exp(Vector256.Load(weights + r * 8) - vm);
            e = Vector256.ConditionalSelect(Visible(nv - r * 8), e, Vector256<float>.Zero);
            e.Store(weights + r * 8);
            var (lo, hi) = Vector256.Widen(e);
            total += lo + hi;
        }
        *sumSlot += (float)Vector256.Sum(total);
    }

    /// <summary>
    /// <see cref="TileScores"/> for two queries at once, 32 positions at a time: each key vector loaded serves both
    /// (the chains per position are the same, so the scores are too). Only the halves holding positions below
    /// <paramref name="nv"/> are computed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileScores2(float* kt, float* qa, float* qb, int d, int nv, float* scoresA, float* scoresB)
    {
        for (var half = 0; half < nv; half += 32) // a second half wholly past the row's last position is never read
        {
            var a0 = Vector256<float>.Zero;
            var a1 = Vector256<float>.Zero;
            var a2 = Vector256<float>.Zero;
            var a3 = Vector256<float>.Zero;
            var b0 = Vector256<float>.Zero;
            var b1 = Vector256<float>.Zero;
            var b2 = Vector256<float>.Zero;
            var b3 = Vector256<float>.Zero;
            var k = kt + half;
            for (var i = 0; i < d; i++, k += KvTile)
            {
                var x = Vector256.Create(qa[i]);
                var y = Vector256.Create(qb[i]);
                var k0 = Vector256.Load(k);
                var k1 = Vector256.Load(k + 8);
                var k2 = Vector256.Load(k + 16);
                var k3 = Vector256.Load(k + 24);
                a0 = Vector256.FusedMultiplyAdd(k0, x, a0);
                b0 = Vector256.FusedMultiplyAdd(k0, y, b0);
                a1 = Vector256.FusedMultiplyAdd(k1, x, a1);
                b1 = Vector256.FusedMultiplyAdd(k1, y, b1);
                a2 = Vector256.FusedMultiplyAdd(k2, x, a2);
                b2 = Vector256.FusedMultiplyAdd(k2, y, b2);
                a3 = Vector256.FusedMultiplyAdd(k3, x, a3);
                b3 = Vector256.FusedMultiplyAdd(k3, y, b3);
            }
            a0.Store(scoresA + half);
            a1.Store(scoresA + half + 8);
            a2.Store(scoresA + half + 16);
            a3.Store(scoresA + half + 24);
            b0.Store(scoresB + half);
            b1.Store(scoresB + half + 8);
            b2.Store(scoresB + half + 16);
            b3.Store(scoresB + half + 24);
        }
    }

    /// <summary>Lanes whose index is below <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Visible(int count) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HorizontalMax(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }

    /// <summary>
    /// The 64 scores of one query against a transposed tile: each is the chain dot = fma(k[i], q[i], dot) over i, as the
    /// reference takes it, run for 64 positions at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileScores(float* kt, float* q, int d, float* scores)
    {
        var a0 = Vector256<float>.Zero;
        var a1 = Vector256<float>.Zero;
        var a2 = Vector256<float>.Zero;
        var a3 = Vector256<float>.Zero;
        var a4 = Vector256<float>.Zero;
        var a5 = Vector256<float>.Zero;
        var a6 = Vector256<float>.Zero;
        var a7 = Vector256<float>.Zero;
        for (var i = 0; i < d; i++)
        {
            var b = Vector256.Create(q[i]);
            var k = kt + i * KvTile;
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(k), b, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(k + 8), b, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Load(k + 16), b, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Load(k + 24), b, a3);
            a4 = Vector256.FusedMultiplyAdd(Vector256.Load(k + 32), b, a4);
            a5 = Vector256.FusedMultiplyAdd(Vector256.Load(k + 40), b, a5);
            a6 = Vector256.FusedMultiplyAdd(Vector256.Load(k + 48), b, a6);
            a7 = Vector256.FusedMultiplyAdd(Vector256.Load(k + 56), b, a7);
        }
        a0.Store(scores);
        a1.Store(scores + 8);
        a2.Store(scores + 16);
        a3.Store(scores + 24);
        a4.Store(scores + 32);
        a5.Store(scores + 40);
        a6.Store(scores + 48);
        a7.Store(scores + 56);
    }

    /// <summary>
    /// acc[i] = fma(v[j, i], w[j], acc[i]) for j = 0..n−1 in order (the reference's chain), 64 floats of the head at a time
    /// (eight independent chains hide the multiply-add latency), then 8 at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateValues(float* acc, float* v, float* w, int n, int d)
    {
        var i = 0;
        for (; i + 64 <= d; i += 64)
        {
            var a0 = Vector256.Load(acc + i);
            var a1 = Vector256.Load(acc + i + 8);
            var a2 = Vector256.Load(acc + i + 16);
            var a3 = Vector256.Load(acc + i + 24);
            var a4 = Vector256.Load(acc + i + 32);
            var a5 = Vector256.Load(acc + i + 40);
            var a6 = Vector256.Load(acc + i + 48);
            var a7 = Vector256.Load(acc + i + 56);
            var vr = v + i;
            for (var j = 0; j < n; j++, vr += d)
            {
                var p = Vector256.Create(w[j]);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(vr), p, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(vr + 8), p, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(vr + 16), p, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(vr + 24), p, a3);
                a4 = Vector256.FusedMultiplyAdd(Vector256.Load(vr + 32), p, a4);
                a5 = Vector256.FusedMultiplyAdd(Vector256.Load(vr + 40), p, a5);
                a6 = Vector256.FusedMultiplyAdd(Vector256.Load(vr + 48), p, a6);
                a7 = Vector256.FusedMultiplyAdd(Vector256.Load(vr + 56), p, a7);
            }
            a0.Store(acc + i);
            a1.Store(acc + i + 8);
            a2.Store(acc + i + 16);
            a3.Store(acc + i + 24);
            a4.Store(acc + i + 32);
            a5.Store(acc + i + 40);
            a6.Store(acc + i + 48);
            a7.Store(acc + i + 56);
        }
        for (; i < d; i += 8)
        {
            var a = Vector256.Load(acc + i);
            var vr = v + i;
            for (var j = 0; j < n; j++, vr += d) a = Vector256.FusedMultiplyAdd(Vector256.Load(vr), Vector256.Create(w[j]), a);
            a.Store(acc + i);
        }
    }
}
