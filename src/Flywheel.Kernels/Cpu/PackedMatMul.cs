using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Reference;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// Matmul on type-0 weights (Q8_0, Q4_0, Q5_0) rearranged once at load (<see cref="Pack"/>), for every activation
/// row count: one decode row, a small decode batch, or a prompt.
/// <para>
/// Layout. Output rows are taken in groups of eight. A group holds, for each 32-block b of the row, the eight rows'
/// codes interleaved by dwords: step j (elements 4j..4j+3) of row r sits in bytes 4r..4r+3 of one 32-byte vector, so
/// one int32 lane of an accumulator is one output row and a broadcast activation dword feeds all eight. Q8_0 keeps
/// its signed codes (eight vectors a block). Q4_0 keeps its nibbles as stored, dword k of each row's qs side by side:
/// the low nibbles are step k and the high nibbles step k + 4 (four vectors). Q5_0 has Q4_0's nibble vectors plus one
/// vector whose byte 4r+i carries, in bit j, the fifth bit of element 4j+i of row r. The eight rows' binary16 scales
/// follow as 16 bytes a block. So the packed copy is exactly as large as the file's blocks, and a decode step reads the
/// same bytes as before, but the block dot products of eight rows finish in vector lanes instead of one horizontal sum
/// each, and the block scales apply as one vector multiply.
/// </para>
/// <para>
/// Arithmetic. Activations are quantized to Q8_0 exactly as the reference does. Codes go through pmaddubsw (u8 × s8
/// pairs into int16) and pmaddwd: Q4_0 and Q5_0 codes are unsigned (the −8 / −16 offset comes back exactly as
/// −offset·Σy, Σy per activation block computed once per call), and the int16 pair sums are added across up to eight
/// (Q4_0: 15·127·2·8 = 30 480) or four (Q5_0: 31·127·2·4 = 31 496) steps before widening, which cannot overflow.
/// Q8_0 takes the sign trick (|w| · sign(y, w), pair sums ≤ 128·127·2 = 32 512). Every block's integer dot product is
/// exact, and each row's float sum runs block after block as sum += (float)sumi · (d_w · d_a), with separate multiply
/// and add, which is the reference's order: results are bit-identical to <see cref="ReferenceKernels"/>.
/// </para>
/// A kernel call computes one group against up to four activation rows, loading each weight vector once for all of
/// them; more rows take the group again from cache, group chunks sized to stay in L2 while activation tiles stream.
/// </summary>
internal static unsafe class PackedMatMul
{
    public const int GroupRows = 8;
    private const int TileRows = 4;               // activation rows per kernel call
    // Software prefetch this many code bytes ahead: on the 2-core KVM EPYC we measure on, the kernels reached only
    // ~5 GB/s from DRAM without it (the hardware prefetchers did not keep up), Q4_0 decode ~1.2-1.4x faster with it.
    // 16 KiB rather than 2 KiB ahead (with the hints below): on the Q4_0 bench file single-row decode 1.12-1.16x and
    // batch-8 decode 1.07x, alternating with the old distance and L1 hints in one run.
    private const int PrefetchDistance = 16384;

    /// <summary>
    /// Prefetches a line of weights: into L2 for one or two activation rows, where the kernel is a DRAM stream and an L2
    /// hint keeps more lines in flight, into L1 from three rows on, where the work per line hides the latency and L1
    /// wins (batch 8, four rows a call, measured 1.05-1.10x over the L2 hint).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch<TR>(byte* line) where TR : struct, IRows
    {
        if (TR.Count <= 2) Sse.Prefetch1(line);
        else Sse.Prefetch0(line);
    }

    /// <summary>The key of this arrangement in <see cref="PackedTensor.Layout"/>.</summary>
    public static readonly object Layout = new LayoutKey();

    private sealed class LayoutKey
    {
        public override string ToString() => "cpu: 8-row dword interleave of type-0 blocks";
    }

    /// <summary>
    /// Whether a single activation row should take the file's bytes (the row-at-a-time path) instead: for Q8_0 the
    /// packed kernel is 2x faster while the weights sit in cache but ~0.65x from DRAM, where a decode step reads them
    /// (896 x 151936 at one thread, both measured in one run); the reason is not found yet.
    /// </summary>
    public static bool PrefersRowPath(GgmlType type, int rows) => rows == 1 && type == GgmlType.Q8_0;

    public static bool Supports(GgmlType type) => Avx2.IsSupported && type is GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q5_0;

    private static int CodeBytes(GgmlType type) => type == GgmlType.Q8_0 ? 256 : 128;

    private static int HighBytes(GgmlType type) => type == GgmlType.Q5_0 ? 32 : 0;

    private static int SourceBlockBytes(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => 34,
        GgmlType.Q4_0 => 18,
        GgmlType.Q5_0 => 22,
        _ => throw new NotSupportedException(GgmlTypeInfo.Name(type)),
    };

    /// <summary>−offset of the unsigned codes (Q4_0's 8, Q5_0's 16), applied as offset · Σy.</summary>
    private static int Offset(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => 8,
        GgmlType.Q5_0 => 16,
        _ => 0,
    };

    /// <summary>Bytes of one group of eight rows of length <paramref name="n"/>: codes, fifth bits, scales; 64-aligned.</summary>
    public static long GroupBytes(GgmlType type, int n) => ((long)(n / 32) * (CodeBytes(type) + HighBytes(type) + 16) + 63) & ~63L;

    public static int Groups(int outFeatures) => (outFeatures + GroupRows - 1) / GroupRows;

    /// <summary>Scratch beyond the quantized activations: per activation row and block, the float scale and −offset·Σy.</summary>
    public static long ActivationExtraBytes(int n, int rows) => (long)rows * (n / 32) * 8;

    /// <summary>Rearranges a [n, out] weight (rows beyond the last group's end are zero).</summary>
    public static PackedTensor Pack(TensorView weight)
    {
        var type = weight.Type;
        if (!Supports(type)) throw new NotSupportedException($"no packed layout for {GgmlTypeInfo.Name(type)}");
        var n = checked((int)weight.RowLength);
        if (n % 32 != 0) throw new ArgumentException($"row length {n} is not a multiple of 32");
        var outFeatures = checked((int)weight.RowCount);
        var groupBytes = GroupBytes(type, n);
        var groups = Groups(outFeatures);
        var packed = new PackedTensor(Layout, Math.Max(64, groups * groupBytes)) { SourceStillRead = PrefersRowPath(type, 1) };
        var src = weight.Data;
        var dst = packed.Data;
        var rowBytes = weight.RowBytes;
        Parallel.For(0, groups, g => PackGroup(type, src, rowBytes, n, outFeatures, g, dst + g * groupBytes, groupBytes));
        return packed;
    }

    private static void PackGroup(GgmlType type, byte* src, long rowBytes, int n, int outFeatures, int g, byte* dst, long groupBytes)
    {
        new Span<byte>(dst, checked((int)groupBytes)).Clear();
        var blocks = n / 32;
        var codeBytes = CodeBytes(type);
        var high = dst + (long)blocks * codeBytes;
        var scales = (ushort*)(high + (long)blocks * HighBytes(type));
        var blockBytes = SourceBlockBytes(type);
        for (var r = 0; r < GroupRows; r++)
        {
            var o = g * GroupRows + r;
            if (o >= outFeatures) break;
            var row = src + o * rowBytes;
            for (var b = 0; b < blocks; b++)
            {
                var block = row + b * blockBytes;
                scales[8 * b + r] = *(ushort*)block;
                var codes = (int*)(dst + (long)b * codeBytes);
                switch (type)
                {
                    case GgmlType.Q8_0:
                        for (var j = 0; j < 8; j++) codes[8 * j + r] = ((int*)(block + 2))[j];
                        break;
                    case GgmlType.Q4_0:
                        for (var k = 0; k < 4; k++) codes[8 * k + r] = ((int*)(block + 2))[k];
                        break;
                    case GgmlType.Q5_0:
                        for (var k = 0; k < 4; k++) codes[8 * k + r] = ((int*)(block + 6))[k];
                        var qh = *(uint*)(block + 2);
                        var bits = high + 32 * b + 4 * r;
                        for (var i = 0; i < 4; i++)
                        {
                            var v = 0;
                            for (var j = 0; j < 8; j++) v |= (int)((qh >> (4 * j + i)) & 1) << j;
                            bits[i] = (byte)v;
                        }
                        break;
                }
            }
        }
    }

    public struct Job
    {
        public byte* Weight;        // packed groups
        public long GroupBytes;
        public GgmlType Type;
        public int Blocks;          // 32-blocks per row
        public float* Input;        // [rows, in]
        public byte* Act;           // [rows, act row bytes] Q8_0 activations
        public long ActRowBytes;
        public float* ActScales;    // [rows, blocks]
        public int* ActOffsets;     // [rows, blocks] −offset·Σy
        public float* Output;       // [rows, out]
        public int Rows;
        public int OutFeatures;
        public int Groups;
        public ChunkPlan Chunks;
        public int QuantRowsPerChunk;
    }

    /// <summary>Chunking for <paramref name="threads"/> threads (<see cref="ChunkPlan.ForPackedMatMul"/>).</summary>
    public static ChunkPlan Plan(GgmlType type, int n, int rows, int groups, int threads) =>
        ChunkPlan.ForPackedMatMul(groups, GroupBytes(type, n), rows, TileRows, threads);

    /// <summary>Quantizes activation rows of chunk <paramref name="chunk"/> and records their block scales and sums.</summary>
    public static void PrepareActivations(void* context, int chunk)
    {
        ref var job = ref *(Job*)context;
        var end = Math.Min(job.Rows, (chunk + 1) * job.QuantRowsPerChunk);
        var offset = Offset(job.Type);
        for (var t = chunk * job.QuantRowsPerChunk; t < end; t++)
        {
            var act = job.Act + t * job.ActRowBytes;
            SimdActivationQuant.Q8_0(job.Input + (long)t * job.Blocks * 32, act, job.Blocks * 32);
            var scales = job.ActScales + (long)t * job.Blocks;
            var sums = job.ActOffsets + (long)t * job.Blocks;
            for (var b = 0; b < job.Blocks; b++)
            {
                var block = act + b * ActivationQuant.Q8_0BlockBytes;
                scales[b] = Half16.ToFloat(*(ushort*)block);
                if (offset == 0) continue;
                // Σ of 32 signed codes: pmaddubsw against ones, then pmaddwd against ones.
                var y = Vector256.Load((sbyte*)(block + 2));
                var s = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256<byte>.One, y), Vector256<short>.One);
                sums[b] = -offset * Vector256.Sum(s);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunChunk(void* context, int chunk)
    {
        ref var job = ref *(Job*)context;
        var (g0, g1) = job.Chunks.Range(chunk);
        for (var t0 = 0; t0 < job.Rows; t0 += TileRows)
        {
            var tile = Math.Min(TileRows, job.Rows - t0);
            for (var g = g0; g < g1; g++)
            {
                switch (job.Type, tile)
                {
                    case (GgmlType.Q4_0, 1): TileQ4_0<R1>(ref job, g, t0); break;
                    case (GgmlType.Q4_0, 2): TileQ4_0<R2>(ref job, g, t0); break;
                    case (GgmlType.Q4_0, 3): TileQ4_0<R3>(ref job, g, t0); break;
                    case (GgmlType.Q4_0, _): TileQ4_0<R4>(ref job, g, t0); break;
                    case (GgmlType.Q5_0, 1): TileQ5_0<R1>(ref job, g, t0); break;
                    case (GgmlType.Q5_0, 2): TileQ5_0<R2>(ref job, g, t0); break;
                    case (GgmlType.Q5_0, 3): TileQ5_0<R3>(ref job, g, t0); break;
                    case (GgmlType.Q5_0, _): TileQ5_0<R4>(ref job, g, t0); break;
                    case (GgmlType.Q8_0, 1): TileQ8_0<R1>(ref job, g, t0); break;
                    case (GgmlType.Q8_0, 2): TileQ8_0<R2>(ref job, g, t0); break;
                    case (GgmlType.Q8_0, 3): TileQ8_0<R3>(ref job, g, t0); break;
                    default: TileQ8_0<R4>(ref job, g, t0); break;
                }
            }
        }
    }

    /// <summary>Eight binary16 values to float, exact for every finite value: the magnitude bits moved into a float's
    /// place and rescaled by 2^112 (the exponent bias difference), then the sign. Scales are never Inf or NaN.</summary>
    private static readonly float Two112 = BitConverter.Int32BitsToSingle((112 + 127) << 23);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalvesToFloats(ushort* p)
    {
        var h = Avx2.ConvertToVector256Int32(p);
        var magnitude = Avx2.ShiftLeftLogical(h & Vector256.Create(0x7FFF), 13).AsSingle() * Vector256.Create(Two112);
        return (magnitude.AsInt32() | Avx2.ShiftLeftLogical(h & Vector256.Create(0x8000), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(byte* p) => Vector256.Create(*(int*)p).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Widen(Vector256<short> pairs) => Avx2.MultiplyAddAdjacent(pairs, Vector256<short>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Pairs(Vector256<byte> codes, Vector256<sbyte> y) => Avx2.MultiplyAddAdjacent(codes, y);

    /// <summary>Stores the eight rows of group <paramref name="g"/> for activation row <paramref name="t"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref Job job, Vector256<float> acc, int g, int t)
    {
        var y = job.Output + (long)t * job.OutFeatures + g * GroupRows;
        var left = job.OutFeatures - g * GroupRows;
        if (left >= GroupRows)
        {
            acc.Store(y);
            return;
        }
        for (var r = 0; r < left; r++) y[r] = acc.GetElement(r);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileQ4_0<TR>(ref Job job, int g, int t0) where TR : struct, IRows
    {
        var blocks = job.Blocks;
        var codes = job.Weight + g * job.GroupBytes;
        var scales = (ushort*)(codes + blocks * 128L);
        var rowBytes = job.ActRowBytes;
        var a0 = job.Act + t0 * rowBytes + 2;
        byte* a1 = a0 + rowBytes, a2 = a1 + rowBytes, a3 = a2 + rowBytes;
        var s0 = job.ActScales + (long)t0 * blocks;
        float* s1 = s0 + blocks, s2 = s1 + blocks, s3 = s2 + blocks;
        var o0 = job.ActOffsets + (long)t0 * blocks;
        int* o1 = o0 + blocks, o2 = o1 + blocks, o3 = o2 + blocks;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        var low = Vector256.Create((byte)0x0F);
        for (var b = 0; b < blocks; b++, codes += 128)
        {
            Prefetch<TR>(codes + PrefetchDistance);
            Prefetch<TR>(codes + PrefetchDistance + 64);
            Prefetch<TR>((byte*)(scales + 8 * b) + PrefetchDistance / 8);
            var dw = HalvesToFloats(scales + 8 * b);
            Vector256<short> p0 = default, p1 = default, p2 = default, p3 = default;
            var ab = 34 * b;
            // Unrolled by hand: the JIT keeps constant-trip loops, and their counters cost as much as the work.
            var v = Vector256.Load(codes + 32 * 0);
            var lo = v & low;
            var hi = Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
            p0 += Pairs(lo, Broadcast(a0 + ab + 4 * 0)) + Pairs(hi, Broadcast(a0 + ab + 16 + 4 * 0));
            if (TR.Count > 1) p1 += Pairs(lo, Broadcast(a1 + ab + 4 * 0)) + Pairs(hi, Broadcast(a1 + ab + 16 + 4 * 0));
            if (TR.Count > 2) p2 += Pairs(lo, Broadcast(a2 + ab + 4 * 0)) + Pairs(hi, Broadcast(a2 + ab + 16 + 4 * 0));
            if (TR.Count > 3) p3 += Pairs(lo, Broadcast(a3 + ab + 4 * 0)) + Pairs(hi, Broadcast(a3 + ab + 16 + 4 * 0));
            v = Vector256.Load(codes + 32 * 1);
            lo = v & low;
            hi = Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
            p0 += Pairs(lo, Broadcast(a0 + ab + 4 * 1)) + Pairs(hi, Broadcast(a0 + ab + 16 + 4 * 1));
            if (TR.Count > 1) p1 += Pairs(lo, Broadcast(a1 + ab + 4 * 1)) + Pairs(hi, Broadcast(a1 + ab + 16 + 4 * 1));
            if (TR.Count > 2) p2 += Pairs(lo, Broadcast(a2 + ab + 4 * 1)) + Pairs(hi, Broadcast(a2 + ab + 16 + 4 * 1));
            if (TR.Count > 3) p3 += Pairs(lo, Broadcast(a3 + ab + 4 * 1)) + Pairs(hi, Broadcast(a3 + ab + 16 + 4 * 1));
            v = Vector256.Load(codes + 32 * 2);
            lo = v & low;
            hi = Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
            p0 += Pairs(lo, Broadcast(a0 + ab + 4 * 2)) + Pairs(hi, Broadcast(a0 + ab + 16 + 4 * 2));
            if (TR.Count > 1) p1 += Pairs(lo, Broadcast(a1 + ab + 4 * 2)) + Pairs(hi, Broadcast(a1 + ab + 16 + 4 * 2));
            if (TR.Count > 2) p2 += Pairs(lo, Broadcast(a2 + ab + 4 * 2)) + Pairs(hi, Broadcast(a2 + ab + 16 + 4 * 2));
            if (TR.Count > 3) p3 += Pairs(lo, Broadcast(a3 + ab + 4 * 2)) + Pairs(hi, Broadcast(a3 + ab + 16 + 4 * 2));
            v = Vector256.Load(codes + 32 * 3);
            lo = v & low;
            hi = Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
            p0 += Pairs(lo, Broadcast(a0 + ab + 4 * 3)) + Pairs(hi, Broadcast(a0 + ab + 16 + 4 * 3));
            if (TR.Count > 1) p1 += Pairs(lo, Broadcast(a1 + ab + 4 * 3)) + Pairs(hi, Broadcast(a1 + ab + 16 + 4 * 3));
            if (TR.Count > 2) p2 += Pairs(lo, Broadcast(a2 + ab + 4 * 3)) + Pairs(hi, Broadcast(a2 + ab + 16 + 4 * 3));
            if (TR.Count > 3) p3 += Pairs(lo, Broadcast(a3 + ab + 4 * 3)) + Pairs(hi, Broadcast(a3 + ab + 16 + 4 * 3));
            acc0 += Vector256.ConvertToSingle(Widen(p0) + Vector256.Create(o0[b])) * (dw * Vector256.Create(s0[b]));
            if (TR.Count > 1) acc1 += Vector256.ConvertToSingle(Widen(p1) + Vector256.Create(o1[b])) * (dw * Vector256.Create(s1[b]));
            if (TR.Count > 2) acc2 += Vector256.ConvertToSingle(Widen(p2) + Vector256.Create(o2[b])) * (dw * Vector256.Create(s2[b]));
            if (TR.Count > 3) acc3 += Vector256.ConvertToSingle(Widen(p3) + Vector256.Create(o3[b])) * (dw * Vector256.Create(s3[b]));
        }
        Store(ref job, acc0, g, t0);
        if (TR.Count > 1) Store(ref job, acc1, g, t0 + 1);
        if (TR.Count > 2) Store(ref job, acc2, g, t0 + 2);
        if (TR.Count > 3) Store(ref job, acc3, g, t0 + 3);
    }

    /// <summary>Bit 4 of each byte set where bit <paramref name="step"/> of the fifth-bit vector is (16-bit shifts keep
    /// the bits that cross a byte boundary out of bit 4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Fifth(Vector256<ushort> bits, int step) =>
        (step <= 4 ? Vector256.ShiftLeft(bits, 4 - step) : Vector256.ShiftRightLogical(bits, step - 4)).AsByte() & Vector256.Create((byte)0x10);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileQ5_0<TR>(ref Job job, int g, int t0) where TR : struct, IRows
    {
        var blocks = job.Blocks;
        var codes = job.Weight + g * job.GroupBytes;
        var high = codes + blocks * 128L;
        var scales = (ushort*)(high + blocks * 32L);
        var rowBytes = job.ActRowBytes;
        var a0 = job.Act + t0 * rowBytes + 2;
        byte* a1 = a0 + rowBytes, a2 = a1 + rowBytes, a3 = a2 + rowBytes;
        var s0 = job.ActScales + (long)t0 * blocks;
        float* s1 = s0 + blocks, s2 = s1 + blocks, s3 = s2 + blocks;
        var o0 = job.ActOffsets + (long)t0 * blocks;
        int* o1 = o0 + blocks, o2 = o1 + blocks, o3 = o2 + blocks;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        var low = Vector256.Create((byte)0x0F);
        for (var b = 0; b < blocks; b++, codes += 128, high += 32)
        {
            Prefetch<TR>(codes + PrefetchDistance);
            Prefetch<TR>(codes + PrefetchDistance + 64);
            Prefetch<TR>(high + PrefetchDistance / 4);
            Prefetch<TR>((byte*)(scales + 8 * b) + PrefetchDistance / 8);
            var dw = HalvesToFloats(scales + 8 * b);
            var bits = Vector256.Load(high).AsUInt16();
            // Steps 0..3 (low nibbles) and 4..7 (high nibbles) in separate int16 sums: four steps of 31·127·2 fit.
            Vector256<short> p0 = default, p1 = default, p2 = default, p3 = default;
            Vector256<short> q0 = default, q1 = default, q2 = default, q3 = default;
            var ab = 34 * b;
            // Unrolled by hand: the JIT keeps constant-trip loops, and their counters cost as much as the work.
            var v = Vector256.Load(codes + 32 * 0);
            var lo = (v & low) | Fifth(bits, 0);
            var hi = (Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low) | Fifth(bits, 0 + 4);
            p0 += Pairs(lo, Broadcast(a0 + ab + 4 * 0)); q0 += Pairs(hi, Broadcast(a0 + ab + 16 + 4 * 0));
            if (TR.Count > 1) { p1 += Pairs(lo, Broadcast(a1 + ab + 4 * 0)); q1 += Pairs(hi, Broadcast(a1 + ab + 16 + 4 * 0)); }
            if (TR.Count > 2) { p2 += Pairs(lo, Broadcast(a2 + ab + 4 * 0)); q2 += Pairs(hi, Broadcast(a2 + ab + 16 + 4 * 0)); }
            if (TR.Count > 3) { p3 += Pairs(lo, Broadcast(a3 + ab + 4 * 0)); q3 += Pairs(hi, Broadcast(a3 + ab + 16 + 4 * 0)); }
            v = Vector256.Load(codes + 32 * 1);
            lo = (v & low) | Fifth(bits, 1);
            hi = (Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low) | Fifth(bits, 1 + 4);
            p0 += Pairs(lo, Broadcast(a0 + ab + 4 * 1)); q0 += Pairs(hi, Broadcast(a0 + ab + 16 + 4 * 1));
            if (TR.Count > 1) { p1 += Pairs(lo, Broadcast(a1 + ab + 4 * 1)); q1 += Pairs(hi, Broadcast(a1 + ab + 16 + 4 * 1)); }
            if (TR.Count > 2) { p2 += Pairs(lo, Broadcast(a2 + ab + 4 * 1)); q2 += Pairs(hi, Broadcast(a2 + ab + 16 + 4 * 1)); }
            if (TR.Count > 3) { p3 += Pairs(lo, Broadcast(a3 + ab + 4 * 1)); q3 += Pairs(hi, Broadcast(a3 + ab + 16 + 4 * 1)); }
            v = Vector256.Load(codes + 32 * 2);
            lo = (v & low) | Fifth(bits, 2);
            hi = (Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low) | Fifth(bits, 2 + 4);
            p0 += Pairs(lo, Broadcast(a0 + ab + 4 * 2)); q0 += Pairs(hi, Broadcast(a0 + ab + 16 + 4 * 2));
            if (TR.Count > 1) { p1 += Pairs(lo, Broadcast(a1 + ab + 4 * 2)); q1 += Pairs(hi, Broadcast(a1 + ab + 16 + 4 * 2)); }
            if (TR.Count > 2) { p2 += Pairs(lo, Broadcast(a2 + ab + 4 * 2)); q2 += Pairs(hi, Broadcast(a2 + ab + 16 + 4 * 2)); }
            if (TR.Count > 3) { p3 += Pairs(lo, Broadcast(a3 + ab + 4 * 2)); q3 += Pairs(hi, Broadcast(a3 + ab + 16 + 4 * 2)); }
            v = Vector256.Load(codes + 32 * 3);
            lo = (v & low) | Fifth(bits, 3);
            hi = (Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low) | Fifth(bits, 3 + 4);
            p0 += Pairs(lo, Broadcast(a0 + ab + 4 * 3)); q0 += Pairs(hi, Broadcast(a0 + ab + 16 + 4 * 3));
            if (TR.Count > 1) { p1 += Pairs(lo, Broadcast(a1 + ab + 4 * 3)); q1 += Pairs(hi, Broadcast(a1 + ab + 16 + 4 * 3)); }
            if (TR.Count > 2) { p2 += Pairs(lo, Broadcast(a2 + ab + 4 * 3)); q2 += Pairs(hi, Broadcast(a2 + ab + 16 + 4 * 3)); }
            if (TR.Count > 3) { p3 += Pairs(lo, Broadcast(a3 + ab + 4 * 3)); q3 += Pairs(hi, Broadcast(a3 + ab + 16 + 4 * 3)); }
            acc0 += Vector256.ConvertToSingle(Widen(p0) + Widen(q0) + Vector256.Create(o0[b])) * (dw * Vector256.Create(s0[b]));
            if (TR.Count > 1) acc1 += Vector256.ConvertToSingle(Widen(p1) + Widen(q1) + Vector256.Create(o1[b])) * (dw * Vector256.Create(s1[b]));
            if (TR.Count > 2) acc2 += Vector256.ConvertToSingle(Widen(p2) + Widen(q2) + Vector256.Create(o2[b])) * (dw * Vector256.Create(s2[b]));
            if (TR.Count > 3) acc3 += Vector256.ConvertToSingle(Widen(p3) + Widen(q3) + Vector256.Create(o3[b])) * (dw * Vector256.Create(s3[b]));
        }
        Store(ref job, acc0, g, t0);
        if (TR.Count > 1) Store(ref job, acc1, g, t0 + 1);
        if (TR.Count > 2) Store(ref job, acc2, g, t0 + 2);
        if (TR.Count > 3) Store(ref job, acc3, g, t0 + 3);
    }

    /// <summary>|w| · sign(y, w): exact pair sums of signed codes (≤ 128·127·2), widened every step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> SignedDot(Vector256<byte> absW, Vector256<sbyte> w, Vector256<sbyte> y) =>
        Widen(Avx2.MultiplyAddAdjacent(absW, Avx2.Sign(y, w)));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileQ8_0<TR>(ref Job job, int g, int t0) where TR : struct, IRows
    {
        var blocks = job.Blocks;
        var codes = job.Weight + g * job.GroupBytes;
        var scales = (ushort*)(codes + blocks * 256L);
        var rowBytes = job.ActRowBytes;
        var a0 = job.Act + t0 * rowBytes + 2;
        byte* a1 = a0 + rowBytes, a2 = a1 + rowBytes, a3 = a2 + rowBytes;
        var s0 = job.ActScales + (long)t0 * blocks;
        float* s1 = s0 + blocks, s2 = s1 + blocks, s3 = s2 + blocks;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (var b = 0; b < blocks; b++, codes += 256)
        {
            Prefetch<TR>(codes + PrefetchDistance);
            Prefetch<TR>(codes + PrefetchDistance + 64);
            Prefetch<TR>(codes + PrefetchDistance + 128);
            Prefetch<TR>(codes + PrefetchDistance + 192);
            Prefetch<TR>((byte*)(scales + 8 * b) + PrefetchDistance / 16);
            var dw = HalvesToFloats(scales + 8 * b);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            var ab = 34 * b;
            // Unrolled by hand: the JIT keeps constant-trip loops, and their counters cost as much as the work.
            var w = Vector256.Load((sbyte*)(codes + 32 * 0));
            var absW = Avx2.Abs(w);
            i0 += SignedDot(absW, w, Broadcast(a0 + ab + 4 * 0));
            if (TR.Count > 1) i1 += SignedDot(absW, w, Broadcast(a1 + ab + 4 * 0));
            if (TR.Count > 2) i2 += SignedDot(absW, w, Broadcast(a2 + ab + 4 * 0));
            if (TR.Count > 3) i3 += SignedDot(absW, w, Broadcast(a3 + ab + 4 * 0));
            w = Vector256.Load((sbyte*)(codes + 32 * 1));
            absW = Avx2.Abs(w);
            i0 += SignedDot(absW, w, Broadcast(a0 + ab + 4 * 1));
            if (TR.Count > 1) i1 += SignedDot(absW, w, Broadcast(a1 + ab + 4 * 1));
            if (TR.Count > 2) i2 += SignedDot(absW, w, Broadcast(a2 + ab + 4 * 1));
            if (TR.Count > 3) i3 += SignedDot(absW, w, Broadcast(a3 + ab + 4 * 1));
            w = Vector256.Load((sbyte*)(codes + 32 * 2));
            absW = Avx2.Abs(w);
            i0 += SignedDot(absW, w, Broadcast(a0 + ab + 4 * 2));
            if (TR.Count > 1) i1 += SignedDot(absW, w, Broadcast(a1 + ab + 4 * 2));
            if (TR.Count > 2) i2 += SignedDot(absW, w, Broadcast(a2 + ab + 4 * 2));
            if (TR.Count > 3) i3 += SignedDot(absW, w, Broadcast(a3 + ab + 4 * 2));
            w = Vector256.Load((sbyte*)(codes + 32 * 3));
            absW = Avx2.Abs(w);
            i0 += SignedDot(absW, w, Broadcast(a0 + ab + 4 * 3));
            if (TR.Count > 1) i1 += SignedDot(absW, w, Broadcast(a1 + ab + 4 * 3));
            if (TR.Count > 2) i2 += SignedDot(absW, w, Broadcast(a2 + ab + 4 * 3));
            if (TR.Count > 3) i3 += SignedDot(absW, w, Broadcast(a3 + ab + 4 * 3));
            w = Vector256.Load((sbyte*)(codes + 32 * 4));
            absW = Avx2.Abs(w);
            i0 += SignedDot(absW, w, Broadcast(a0 + ab + 4 * 4));
            if (TR.Count > 1) i1 += SignedDot(absW, w, Broadcast(a1 + ab + 4 * 4));
            if (TR.Count > 2) i2 += SignedDot(absW, w, Broadcast(a2 + ab + 4 * 4));
            if (TR.Count > 3) i3 += SignedDot(absW, w, Broadcast(a3 + ab + 4 * 4));
            w = Vector256.Load((sbyte*)(codes + 32 * 5));
            absW = Avx2.Abs(w);
            i0 += SignedDot(absW, w, Broadcast(a0 + ab + 4 * 5));
            if (TR.Count > 1) i1 += SignedDot(absW, w, Broadcast(a1 + ab + 4 * 5));
            if (TR.Count > 2) i2 += SignedDot(absW, w, Broadcast(a2 + ab + 4 * 5));
            if (TR.Count > 3) i3 += SignedDot(absW, w, Broadcast(a3 + ab + 4 * 5));
            w = Vector256.Load((sbyte*)(codes + 32 * 6));
            absW = Avx2.Abs(w);
            i0 += SignedDot(absW, w, Broadcast(a0 + ab + 4 * 6));
            if (TR.Count > 1) i1 += SignedDot(absW, w, Broadcast(a1 + ab + 4 * 6));
            if (TR.Count > 2) i2 += SignedDot(absW, w, Broadcast(a2 + ab + 4 * 6));
            if (TR.Count > 3) i3 += SignedDot(absW, w, Broadcast(a3 + ab + 4 * 6));
            w = Vector256.Load((sbyte*)(codes + 32 * 7));
            absW = Avx2.Abs(w);
            i0 += SignedDot(absW, w, Broadcast(a0 + ab + 4 * 7));
            if (TR.Count > 1) i1 += SignedDot(absW, w, Broadcast(a1 + ab + 4 * 7));
            if (TR.Count > 2) i2 += SignedDot(absW, w, Broadcast(a2 + ab + 4 * 7));
            if (TR.Count > 3) i3 += SignedDot(absW, w, Broadcast(a3 + ab + 4 * 7));
            acc0 += Vector256.ConvertToSingle(i0) * (dw * Vector256.Create(s0[b]));
            if (TR.Count > 1) acc1 += Vector256.ConvertToSingle(i1) * (dw * Vector256.Create(s1[b]));
            if (TR.Count > 2) acc2 += Vector256.ConvertToSingle(i2) * (dw * Vector256.Create(s2[b]));
            if (TR.Count > 3) acc3 += Vector256.ConvertToSingle(i3) * (dw * Vector256.Create(s3[b]));
        }
        Store(ref job, acc0, g, t0);
        if (TR.Count > 1) Store(ref job, acc1, g, t0 + 1);
        if (TR.Count > 2) Store(ref job, acc2, g, t0 + 2);
        if (TR.Count > 3) Store(ref job, acc3, g, t0 + 3);
    }
}
