using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Reference;

namespace Flywheel.Kernels.Cpu;

public sealed unsafe partial class CpuKernels
{
    private const int AttentionBlock = 16; // cache positions converted from F16 at once and shared by a head group

    [ThreadStatic] private static float* t_attentionScratch;
    [ThreadStatic] private static int t_attentionScratchFloats;

    private struct AttentionJob
    {
        public float* Query;      // [rows, heads, headDim]
        public ushort* Keys;      // [pool rows, kvHeads, headDim] binary16
        public ushort* Values;    // [pool rows, kvHeads, headDim] binary16
        public int* BlockTable;   // [blocks] pool block of each block of positions
        public int* TableStarts;  // [rows] where row t's table starts in BlockTable; null: every row reads it from 0
        public int BlockShift;    // log2 of the block size
        public float* Output;     // [rows, heads, headDim]
        public int* Positions;    // [rows]
        public int Rows;
        public int Heads;
        public int KvHeads;
        public int HeadDim;
        public float Scale;
        public bool Wide;         // take the 512-bit paths (same per-lane chains, so the same results as 256-bit)
    }

    /// <summary>
    /// Below <see cref="ReferenceKernels.TiledAttentionRows"/> query rows (decode, short prompts): streaming (flash-style) attention with the reference's numerics step for step: Q rounded to F16, q·k summed in
    /// double, the softmax kept online position by position, and the V accumulator rounded to F16 after every
    /// multiply-add. Differences from the reference come only from the order of the double q·k sum (almost always
    /// exact) (exp is MathF.Exp, as there).
    /// The query heads that share a KV head run together, so each cached key and value is converted from F16 once per
    /// group; (row, KV head) pairs are spread over the thread pool. Longer batches take the tiled numerics
    /// (<see cref="TiledAttentionChunk"/>). Head sizes that are not a multiple of 8 take the reference.
    /// </summary>
    public void Attention(ReadOnlySpan<float> query, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values, ReadOnlySpan<int> blockTable,
        int blockSize, Span<float> output, int rows, int heads, int kvHeads, int headDim, ReadOnlySpan<int> positions, float scale,
        Span<float> scratch)
    {
        if (headDim % 8 != 0)
        {
            _reference.Attention(query, keys, values, blockTable, blockSize, output, rows, heads, kvHeads, headDim, positions, scale, scratch);
            return;
        }
        PagedAttentionChecks.Shape(heads, kvHeads, blockSize);
        if (query.Length < (long)rows * heads * headDim || output.Length < (long)rows * heads * headDim)
        {
            throw new ArgumentException("query and output must hold rows × heads × headDim floats");
        }
        if (positions.Length < rows) throw new ArgumentException("one position per query row is needed");
        var kvStride = (long)kvHeads * headDim;
        var last = -1;
        for (var t = 0; t < rows; t++)
        {
            if (positions[t] < 0 || positions[t] >= (long)blockTable.Length * blockSize) throw new ArgumentException($"position {positions[t]} is beyond the cache");
            last = Math.Max(last, positions[t]);
        }
        PagedAttentionChecks.Blocks(blockTable, blockSize, kvStride, last, keys.Length, values.Length);
        fixed (float* q = query)
        fixed (ushort* k = keys)
        fixed (ushort* v = values)
        fixed (int* table = blockTable)
        fixed (float* o = output)
        fixed (int* p = positions)
        {
            var job = new AttentionJob
            {
                Query = q, Keys = k, Values = v, BlockTable = table, BlockShift = int.Log2(blockSize), Output = o, Positions = p,
                Rows = rows, Heads = heads, KvHeads = kvHeads, HeadDim = headDim, Scale = scale, Wide = _avx512,
            };
            if (rows >= ReferenceKernels.TiledAttentionRows)
            {
                _pool.Run(&TiledAttentionChunk, &job, kvHeads * ((rows + TiledQueryRows - 1) / TiledQueryRows));
                return;
            }
            var chunks = rows * kvHeads;
            if (chunks == 1) AttentionChunk(&job, 0);
            else _pool.Run(&AttentionChunk, &job, chunks);
        }
    }

    /// <summary>
    /// The streaming decode numerics of <see cref="Attention"/> for rows of several sequences, each over its own slice
    /// of <paramref name="blockTables"/>: one pool dispatch of rows × KV heads chunks, so a batched decode step spreads
    /// all its sequences' attention over the threads at once instead of a few chunks per sequence. A chunk depends only
    /// on its row and KV head, so each output is bit-identical to a one-row <see cref="Attention"/> call. Head sizes
    /// that are not a multiple of 8 take the reference.
    /// </summary>
    public void DecodeAttention(ReadOnlySpan<float> query, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values, ReadOnlySpan<int> blockTables,
        ReadOnlySpan<int> tableStarts, ReadOnlySpan<int> tableLengths, int blockSize, Span<float> output, int rows, int heads, int kvHeads,
        int headDim, ReadOnlySpan<int> positions, float scale, Span<float> scratch)
    {
        if (headDim % 8 != 0)
        {
            _reference.DecodeAttention(query, keys, values, blockTables, tableStarts, tableLengths, blockSize, output, rows, heads, kvHeads,
                headDim, positions, scale, scratch);
            return;
        }
        PagedAttentionChecks.DecodeRows(query.Length, output.Length, keys.Length, values.Length, blockTables, tableStarts, tableLengths,
            blockSize, rows, heads, kvHeads, headDim, positions);
        fixed (float* q = query)
        fixed (ushort* k = keys)
        fixed (ushort* v = values)
        fixed (int* table = blockTables)
        fixed (int* starts = tableStarts)
        fixed (float* o = output)
        fixed (int* p = positions)
        {
            var job = new AttentionJob
            {
                Query = q, Keys = k, Values = v, BlockTable = table, TableStarts = starts, BlockShift = int.Log2(blockSize), Output = o,
                Positions = p, Rows = rows, Heads = heads, KvHeads = kvHeads, HeadDim = headDim, Scale = scale, Wide = _avx512,
            };
            var chunks = rows * kvHeads;
            if (chunks == 1) AttentionChunk(&job, 0);
            else _pool.Run(&AttentionChunk, &job, chunks);
        }
    }

    private static float* AttentionScratch(int floats)
    {
        if (t_attentionScratchFloats < floats)
        {
            if (t_attentionScratch != null) NativeMemory.AlignedFree(t_attentionScratch);
            t_attentionScratch = (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
            t_attentionScratchFloats = floats;
        }
        return t_attentionScratch;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AttentionChunk(void* context, int chunk)
    {
        ref var job = ref *(AttentionJob*)context;
        var d = job.HeadDim;
        var t = chunk / job.KvHeads;
        var kvh = chunk % job.KvHeads;
        var group = job.Heads / job.KvHeads;
        var visible = job.Positions[t] + 1;
        var kvStride = (long)job.KvHeads * d;
        var blockTable = job.TableStarts == null ? job.BlockTable : job.BlockTable + job.TableStarts[t];

        // Scratch: q16 [group, d] doubles, acc [group, d], keys of a block [AttentionBlock, d] doubles, its values
        // [AttentionBlock, d], scores and weights [group, block] each, running maxima and sums [group] each,
        // raised-maximum masks [group]. Q and K are held as doubles so that q·k is one double multiply-add per element:
        // a product of two F16 values is exact in float and in double alike, so fma(k, q, s) adds exactly the
        // product the float multiply gave before.
        var q16 = (double*)AttentionScratch(3 * group * d + 3 * AttentionBlock * d + 2 * group * AttentionBlock + 3 * group);
        var acc = (float*)(q16 + group * d);
        var kd = (double*)(acc + group * d);
        var vf = (float*)(kd + AttentionBlock * d);
        var scores = vf + AttentionBlock * d;
        var exps = scores + group * AttentionBlock;
        var maxes = exps + group * AttentionBlock;
        var sums = maxes + group;
        var raisedAt = (int*)(sums + group);

        var firstHead = kvh * group;
        for (var g = 0; g < group; g++)
        {
            var src = job.Query + ((long)t * job.Heads + firstHead + g) * d;
            for (var i = 0; i < d; i += 8)
            {
                var (lo, hi) = Vector256.Widen(RoundToHalf(Vector256.Load(src + i)));
                lo.Store(q16 + g * d + i);
                hi.Store(q16 + g * d + i + 4);
                Vector256<float>.Zero.Store(acc + g * d + i);
            }
            maxes[g] = float.NegativeInfinity;
            sums[g] = 0f;
        }

        var scale = job.Scale;
        var wide = job.Wide && d % 16 == 0;
        for (var j0 = 0; j0 < visible; j0 += AttentionBlock)
        {
            var n = Math.Min(AttentionBlock, visible - j0);
            for (var jj = 0; jj < n; jj++)
            {
                var j = j0 + jj;
                var mask = (1 << job.BlockShift) - 1;
                var row = (long)((blockTable[j >> job.BlockShift] << job.BlockShift) | (j & mask)) * kvStride + kvh * d;
                if (wide)
                {
                    // Sixteen at a time: the conversions are a large part of the work for a small head group.
                    for (var i = 0; i < d; i += 16)
                    {
                        var kf = HalfToFloat(Vector256.Load(job.Keys + row + i));
                        Avx512F.ConvertToVector512Double(kf.GetLower()).Store(kd + jj * d + i);
                        Avx512F.ConvertToVector512Double(kf.GetUpper()).Store(kd + jj * d + i + 8);
                        HalfToFloat(Vector256.Load(job.Values + row + i)).Store(vf + jj * d + i);
                    }
                }
                else
                {
                    for (var i = 0; i < d; i += 8)
                    {
                        var (lo, hi) = Vector256.Widen(HalfToFloat(Vector128.Load(job.Keys + row + i)));
                        lo.Store(kd + jj * d + i);
                        hi.Store(kd + jj * d + i + 4);
                        HalfToFloat(Vector128.Load(job.Values + row + i)).Store(vf + jj * d + i);
                    }
                }
            }
            // Scores and softmax weights for every head of the group first, then the accumulator updates position by
            // position with the heads interleaved: each head's chain of rounded multiply-adds is the same as before, but
            // the group's chains are independent, so they overlap instead of each waiting on its own previous position.
            for (var g = 0; g < group; g++)
            {
                var qg = q16 + g * d;
                var sg = scores + g * AttentionBlock;
                if (wide) for (var jj = 0; jj < n; jj++) sg[jj] = DotWide(kd + jj * d, qg, d) * scale;
                else for (var jj = 0; jj < n; jj++) sg[jj] = Dot(kd + jj * d, qg, d) * scale;

                // The reference's online softmax, position by position: a new maximum rescales the accumulator by
                // exp(old − new) and adds its value with weight 1; any other position adds with exp(s − max).
                var eg = exps + g * AttentionBlock;
                var max = maxes[g];
                var newMax = 0; // bit jj set where position jj raised the maximum
                for (var jj = 0; jj < n; jj++)
                {
                    var sc = sg[jj];
                    if (sc > max)
                    {
                        eg[jj] = max - sc;
                        max = sc;
                        newMax |= 1 << jj;
                    }
                    else
                    {
                        eg[jj] = sc - max;
                    }
                }
                maxes[g] = max;
                raisedAt[g] = newMax;
                // MathF.Exp as the reference: Vector256.Exp can differ by an ulp, and an ulp in a softmax weight is
                // enough to move an F16 accumulator rounding and, at near-ties, a greedy token.
                for (var jj = 0; jj < n; jj++) eg[jj] = MathF.Exp(eg[jj]);
            }

            for (var jj = 0; jj < n; jj++)
            {
                var vr = vf + jj * d;
                for (var g = 0; g < group; g++)
                {
                    var ag = acc + g * d;
                    float ms = 1f, vs = 1f;
                    var raised = (raisedAt[g] & (1 << jj)) != 0;
                    if (raised) ms = exps[g * AttentionBlock + jj];
                    else vs = exps[g * AttentionBlock + jj];
                    if (wide)
                    {
                        // Same per-element steps as the 256-bit loop below, sixteen lanes at a time.
                        var vms = Vector512.Create(ms);
                        var vp = Vector512.Create(vs);
                        for (var i = 0; i < d; i += 16)
                        {
                            var a = Vector512.Load(ag + i);
                            if (raised) a = RoundToHalf(a * vms);
                            RoundToHalf(Vector512.FusedMultiplyAdd(Vector512.Load(vr + i), vp, a)).Store(ag + i);
                        }
                    }
                    else
                    {
                        var vms = Vector256.Create(ms);
                        var vp = Vector256.Create(vs);
                        for (var i = 0; i < d; i += 8)
                        {
                            var a = Vector256.Load(ag + i);
                            if (raised) a = RoundToHalf(a * vms);
                            RoundToHalf(Vector256.FusedMultiplyAdd(Vector256.Load(vr + i), vp, a)).Store(ag + i);
                        }
                    }
                    sums[g] = sums[g] * ms + vs;
                }
            }
        }

        for (var g = 0; g < group; g++)
        {
            var inv = Vector256.Create(sums[g] == 0f ? 0f : 1f / sums[g]);
            var dst = job.Output + ((long)t * job.Heads + firstHead + g) * d;
            for (var i = 0; i < d; i += 8) (Vector256.Load(acc + g * d + i) * inv).Store(dst + i);
        }
    }

    /// <summary>
    /// q·k as the reference takes it: products of F16 values (exact) summed in double, here in two accumulators of four
    /// lanes (lane l of the first takes elements 8m + l, of the second 8m + 4 + l, in order of m), then narrowed to
    /// float. A double sum of such products is exact unless their magnitudes span more than ~30 binades, so this
    /// order rarely matters; it is kept fixed so that every width gives the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(double* k, double* q, int d)
    {
        var s0 = Vector256<double>.Zero;
        var s1 = Vector256<double>.Zero;
        for (var i = 0; i < d; i += 8)
        {
            s0 = Vector256.FusedMultiplyAdd(Vector256.Load(k + i), Vector256.Load(q + i), s0);
            s1 = Vector256.FusedMultiplyAdd(Vector256.Load(k + i + 4), Vector256.Load(q + i + 4), s1);
        }
        return (float)Vector256.Sum(s0 + s1);
    }

    /// <summary>
    /// <see cref="Dot"/> eight doubles at a time: lanes 0–3 of the one 512-bit accumulator take the sums of
    /// <see cref="Dot"/>'s first accumulator and lanes 4–7 those of its second, in the same order, so the result is
    /// bit-identical.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotWide(double* k, double* q, int d)
    {
        var s = Vector512<double>.Zero;
        for (var i = 0; i < d; i += 8) s = Vector512.FusedMultiplyAdd(Vector512.Load(k + i), Vector512.Load(q + i), s);
        return (float)Vector256.Sum(s.GetLower() + s.GetUpper());
    }

    /// <summary>
    /// binary16 → float for 8 values, exact for every pattern: the exponent and mantissa bits move up 13 places and a
    /// multiply by 2^112 rebiases the exponent (turning half subnormals into float normals exactly); infinities and
    /// NaNs get the float's all-ones exponent.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> HalfToFloat(Vector128<ushort> h)
    {
        var x = Avx2.ConvertToVector256Int32(h).AsUInt32(); // zero-extended 16 → 32 bits
        var magnitude = x & Vector256.Create(0x7FFFu);
        var sign = Vector256.ShiftLeft(x & Vector256.Create(0x8000u), 16);
        var value = (Vector256.ShiftLeft(magnitude, 13).AsSingle() * Vector256.Create(5.192297e33f)).AsUInt32(); // 2^112
        var special = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7C00u));
        value = Vector256.ConditionalSelect(special, Vector256.ShiftLeft(magnitude, 13) | Vector256.Create(0x7F800000u), value);
        return (value | sign).AsSingle();
    }

    /// <summary><see cref="HalfToFloat(Vector128{ushort})"/> for 16 values, step for step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> HalfToFloat(Vector256<ushort> h)
    {
        var x = Avx512F.ConvertToVector512UInt32(h); // zero-extended 16 → 32 bits
        var magnitude = x & Vector512.Create(0x7FFFu);
        var sign = Vector512.ShiftLeft(x & Vector512.Create(0x8000u), 16);
        var value = (Vector512.ShiftLeft(magnitude, 13).AsSingle() * Vector512.Create(5.192297e33f)).AsUInt32(); // 2^112
        var special = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x7C00u));
        value = Vector512.ConditionalSelect(special, Vector512.ShiftLeft(magnitude, 13) | Vector512.Create(0x7F800000u), value);
        return (value | sign).AsSingle();
    }

    /// <summary>
    /// Rounds 8 floats to the nearest binary16 value (ties to even) and back, as Half16.Round does one at a time. Adding
    /// c = 2^(e+13), e the exponent of |x| but at least −14, puts |x| in a float binade whose ulp is 2^(e−10), so the add
    /// rounds |x| to 11 significant bits (or, below 2^−14, to a multiple of 2^−24, the half subnormal step) with the
    /// float's own ties-to-even, and subtracting c again is exact. From 65520 on, where that rounding reaches 65536,
    /// the result is infinity; NaNs pass through unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> RoundToHalf(Vector256<float> v)
    {
        var bits = v.AsUInt32();
        var abs = bits & Vector256.Create(0x7FFFFFFFu);
        var c = (Vector256.Max(bits & Vector256.Create(0x7F800000u), Vector256.Create(0x38800000u)) + Vector256.Create(13u << 23)).AsSingle();
        var rounded = ((abs.AsSingle() + c) - c).AsUInt32();
        rounded = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(abs, Vector256.Create(0x477FF000u)),
            Vector256.Max(abs, Vector256.Create(0x7F800000u)), rounded);
        return (rounded | (bits & Vector256.Create(0x80000000u))).AsSingle();
    }

    /// <summary><see cref="RoundToHalf(Vector256{float})"/> for 16 floats, step for step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> RoundToHalf(Vector512<float> v)
    {
        var bits = v.AsUInt32();
        var abs = bits & Vector512.Create(0x7FFFFFFFu);
        var c = (Vector512.Max(bits & Vector512.Create(0x7F800000u), Vector512.Create(0x38800000u)) + Vector512.Create(13u << 23)).AsSingle();
        var rounded = ((abs.AsSingle() + c) - c).AsUInt32();
        rounded = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(abs, Vector512.Create(0x477FF000u)),
            Vector512.Max(abs, Vector512.Create(0x7F800000u)), rounded);
        return (rounded | (bits & Vector512.Create(0x80000000u))).AsSingle();
    }
}
