using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Reference;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// The 512-bit form of <see cref="PackedMatMul"/> (the "avx512" and "avx512-vnni" sets): the same arithmetic, on twice the rows per
/// instruction and up to eight activation rows per kernel call.
/// <para>
/// Layout. Output rows are taken in groups of sixteen; for each 32-block of the row, step j (elements 4j..4j+3) of row
/// r sits in bytes 4r..4r+3 of one 64-byte vector, so one int32 lane is one output row and a broadcast activation
/// dword feeds all sixteen. Q8_0 instead keeps its signed codes in pairs, step j (elements 2j, 2j+1) of row r in bytes
/// 2r, 2r+1 of one 32-byte half vector (sixteen halves a block). Q4_0 keeps its nibbles as stored (four vectors: low
/// nibbles step k, high nibbles step k + 4), Q5_0 Q4_0's vectors plus one whose byte 4r+i carries, in bit j, the fifth
/// bit of element 4j+i of row r. The sixteen rows' binary16 scales follow as 32 bytes a block. The copy is as large as
/// the file's blocks.
/// </para>
/// <para>
/// Activations. Each call quantizes its rows to Q8_0 exactly as the reference does, then lays them out in tiles of
/// eight rows, block by block: the eight rows' 32 codes, their float scales, their −offset·Σy (for Q8_0: the codes
/// widened to int16, then the scales). A kernel then reaches every operand of a block from one pointer at constant
/// displacements; with eight rows' separate pointers, scales and sums the 16 general registers would spill inside the
/// loop.
/// </para>
/// <para>
/// Arithmetic. Codes go through vpmaddubsw (u8 × s8 pairs into int16) and vpmaddwd. Q4_0 and Q5_0 codes are unsigned
/// (the −8 / −16 offset comes back exactly as −offset·Σy), and the int16 pair sums add across up to eight (Q4_0:
/// 15·127·2·8 = 30 480) or four (Q5_0: 31·127·2·4 = 31 496) steps before widening, which cannot overflow. Q8_0's
/// codes are signed on both sides, and vpmaddubsw takes one side unsigned. Without VNNI the cheapest exact form
/// sign-extends each weight half vector to int16 once for all rows (vpmovsxbw) and multiplies it by int16 activation
/// pairs with vpmaddwd straight into int32: one multiply and one add per row per 32 products, and no widening or
/// offset at the block's end. Splitting w + 128 into nibbles for vpmaddubsw took two multiplies and two adds per 64
/// products plus the widening (pp512 of the Q8_0 bench file 1.06x faster this way, alternating runs; single-row decode,
/// bound by memory, about 0.96x). A masked negate for the sign costs the JIT a subtract and a blend per row. Each row's
/// float sum runs block after block as sum += (float)sumi · (d_w · d_a), separate multiply and add: bit-identical to
/// <see cref="ReferenceKernels"/>.
/// </para>
/// <para>
/// With AVX512-VNNI (the "avx512-vnni" set) Q4_0 and Q8_0 tiles run in <see cref="VnniKernels"/> instead: vpdpbusd
/// adds four u8 × s8 products into an int32 lane in one instruction. Q8_0 then takes a layout of its own
/// (<see cref="VnniQ8_0Layout"/>: codes + 128 as unsigned bytes, dword steps as Q4_0) and int8 tiles with −128·Σy as
/// the offset. The float epilogue is the same, so are the results.
/// </para>
/// </summary>
internal static unsafe class PackedMatMul512
{
    public const int GroupRows = 16;
    public const int TileRows = 8;               // activation rows per kernel call (8 rows + their sums fit 32 zmm)
    internal const int TileBlockBytes = TileRows * 32 + TileRows * 4 + TileRows * 4;
    // Q8_0's tiles hold the codes as int16 for vpmaddwd, and need no offset sums.
    private const int WideTileBlockBytes = TileRows * 64 + TileRows * 4;

    /// <summary>Whether the tiles hold int16 codes for vpmaddwd: Q8_0 off VNNI. Under VNNI Q8_0 keeps int8 tiles with an
    /// offset, as Q4_0 does.</summary>
    private static bool WideTiles(GgmlType type, bool vnni) => type == GgmlType.Q8_0 && !vnni;

    private static int TileBlock(GgmlType type, bool vnni) => WideTiles(type, vnni) ? WideTileBlockBytes : TileBlockBytes;
    // Far ahead (1-2 groups): with eight activation rows a 16-row group takes long enough that a DRAM-bound batch
    // decode stalls on nearer lines. Batch-8 decode of the Qwen2.5-0.5B-shaped Q4_0 file, alternating in one run:
    // 16 KiB 1.10-1.15x of 2 KiB, 8 KiB and 32 KiB in between; prompt and single-row decode unchanged.
    internal const int PrefetchDistance = 16384;

    /// <summary>
    /// Prefetches a line of weights. Up to five activation rows the kernel is a DRAM stream with little work per line,
    /// and a hint into L2 keeps more lines in flight than one into L1, whose miss buffers are few: single-row decode of
    /// the Q4_0 bench file 1.40-1.45x, batch 2 1.25-1.40x, batch 4 1.10x (alternating runs). From six rows on the
    /// kernel computes long enough per line that bringing it into L1 wins (batch 8: 1.05x over the L2 hint).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch<TR>(byte* line) where TR : struct, IRows
    {
        if (TR.Count <= 5) Sse.Prefetch1(line);
        else Sse.Prefetch0(line);
    }


    /// <summary>The key of this arrangement in <see cref="PackedTensor.Layout"/>.</summary>
    public static readonly object Layout = new LayoutKey("cpu: 16-row dword interleave of type-0 blocks (512-bit)");

    /// <summary>The key of Q8_0's arrangement for <see cref="VnniKernels"/>: codes + 128 as unsigned bytes, dword steps.</summary>
    public static readonly object VnniQ8_0Layout = new LayoutKey("cpu: 16-row dword interleave of Q8_0 codes + 128 (512-bit, VNNI)");

    /// <summary>The arrangement <paramref name="type"/> takes in a set that does (or does not) run the VNNI kernels.</summary>
    public static object LayoutOf(GgmlType type, bool vnni) => vnni && type == GgmlType.Q8_0 ? VnniQ8_0Layout : Layout;

    private sealed class LayoutKey(string name)
    {
        public override string ToString() => name;
    }

    public static bool Supports(GgmlType type) => CpuKernels.Avx512Supported && type is GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q5_0;

    private static int CodeBytes(GgmlType type) => type == GgmlType.Q8_0 ? 512 : 256;

    private static int HighBytes(GgmlType type) => type == GgmlType.Q5_0 ? 64 : 0;

    private static int SourceBlockBytes(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => 34,
        GgmlType.Q4_0 => 18,
        GgmlType.Q5_0 => 22,
        _ => throw new NotSupportedException(GgmlTypeInfo.Name(type)),
    };

    /// <summary>−offset of the unsigned codes (Q4_0's 8, Q5_0's 16, and Q8_0's 128 in the VNNI layout, which stores
    /// w + 128), applied as offset · Σy.</summary>
    private static int Offset(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => 128,
        GgmlType.Q4_0 => 8,
        GgmlType.Q5_0 => 16,
        _ => throw new NotSupportedException(GgmlTypeInfo.Name(type)),
    };

    /// <summary>Bytes of one group of sixteen rows of length <paramref name="n"/>: codes, fifth bits, scales; 64-aligned.</summary>
    public static long GroupBytes(GgmlType type, int n) => ((long)(n / 32) * (CodeBytes(type) + HighBytes(type) + 32) + 63) & ~63L;

    public static int Groups(int outFeatures) => (outFeatures + GroupRows - 1) / GroupRows;

    /// <summary>Scratch for the activation tiles, which <see cref="PrepareActivations"/> fills straight from the floats.</summary>
    public static long ActivationTileBytes(int n, int rows) => (long)((rows + TileRows - 1) / TileRows) * (n / 32) * Math.Max(TileBlockBytes, WideTileBlockBytes);

    /// <summary>Rearranges a [n, out] weight (rows beyond the last group's end are zero).</summary>
    public static PackedTensor Pack(TensorView weight, bool vnni = false)
    {
        var type = weight.Type;
        if (!Supports(type)) throw new NotSupportedException($"no 512-bit packed layout for {GgmlTypeInfo.Name(type)}");
        var n = checked((int)weight.RowLength);
        if (n % 32 != 0) throw new ArgumentException($"row length {n} is not a multiple of 32");
        var outFeatures = checked((int)weight.RowCount);
        var groupBytes = GroupBytes(type, n);
        var groups = Groups(outFeatures);
        // Every row count takes this copy, a single Q8_0 row included (unlike the 256-bit layout's row path): it is as
        // fast as the row path from DRAM (896 x 151936, ~1.0-1.1x, noisy) and 2.9x faster from cache (896 x 4864, one
        // thread), both measured in one run; so the file's pages are not read again and can go.
        var packed = new PackedTensor(LayoutOf(type, vnni), Math.Max(64, groups * groupBytes)) { SourceStillRead = false };
        var src = weight.Data;
        var dst = packed.Data;
        var rowBytes = weight.RowBytes;
        Parallel.For(0, groups, g => PackGroup(type, vnni, src, rowBytes, n, outFeatures, g, dst + g * groupBytes, groupBytes));
        return packed;
    }

    private static void PackGroup(GgmlType type, bool vnni, byte* src, long rowBytes, int n, int outFeatures, int g, byte* dst, long groupBytes)
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
                scales[GroupRows * b + r] = *(ushort*)block;
                var codes = (int*)(dst + (long)b * codeBytes);
                switch (type)
                {
                    case GgmlType.Q8_0 when vnni:
                        // w + 128 as an unsigned byte is w's bits with the top one flipped.
                        for (var k = 0; k < 8; k++) codes[GroupRows * k + r] = ((int*)(block + 2))[k] ^ unchecked((int)0x80808080);
                        break;
                    case GgmlType.Q8_0:
                        for (var j = 0; j < 16; j++) ((short*)codes)[GroupRows * j + r] = ((short*)(block + 2))[j];
                        break;
                    case GgmlType.Q4_0:
                        for (var k = 0; k < 4; k++) codes[GroupRows * k + r] = ((int*)(block + 2))[k];
                        break;
                    case GgmlType.Q5_0:
                        for (var k = 0; k < 4; k++) codes[GroupRows * k + r] = ((int*)(block + 6))[k];
                        var qh = *(uint*)(block + 2);
                        var bits = high + 64 * b + 4 * r;
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
        public byte* Tiles;         // [row tiles, blocks, TileBlock(Type)]
        public float* Output;       // [rows, out]
        public int Rows;
        public int OutFeatures;
        public int Groups;
        public ChunkPlan Chunks;
        public int PrepareBlocksPerChunk;
        public bool Vnni;           // Q4_0 and Q8_0 tiles through VnniKernels (Q8_0 in its VNNI layout)
    }

    /// <summary>Chunking for <paramref name="threads"/> threads (<see cref="ChunkPlan.ForPackedMatMul"/>).</summary>
    public static ChunkPlan Plan(GgmlType type, int n, int rows, int groups, int threads) =>
        ChunkPlan.ForPackedMatMul(groups, GroupBytes(type, n), rows, TileRows, threads);

    /// <summary>
    /// Chunks for <see cref="PrepareActivations"/>: the 32-blocks of every row split into about two a thread from 4,096
    /// values on, else one (on the calling thread). A decode step's matmul is short, and its quantization ran on one
    /// thread while the others waited: 8 × 4864 values took ~28 µs of a ~220 µs down projection on two threads.
    /// </summary>
    public static int PrepareBlocksPerChunk(int blocks, int rows, int threads) =>
        (long)blocks * 32 * rows < 4096 || threads <= 1 ? blocks : Math.Max(1, (blocks + threads * 2 - 1) / (threads * 2));

    /// <summary>
    /// Quantizes blocks [chunk · k, (chunk + 1) · k) of every activation row (k = <see cref="Job.PrepareBlocksPerChunk"/>)
    /// straight into their tiles, as the reference's Q8_0 would: codes, the binary16 scale widened to float, and for
    /// Q4_0 / Q5_0 −offset · Σ codes.
    /// </summary>
    public static void PrepareActivations(void* context, int chunk)
    {
        ref var job = ref *(Job*)context;
        var b0 = chunk * job.PrepareBlocksPerChunk;
        var b1 = Math.Min(job.Blocks, b0 + job.PrepareBlocksPerChunk);
        var wide = WideTiles(job.Type, job.Vnni);
        var offset = wide ? 0 : Offset(job.Type);
        var tileBlock = TileBlock(job.Type, job.Vnni);
        var tileBytes = (long)job.Blocks * tileBlock;
        var spill = stackalloc byte[ActivationQuant.Q8_0BlockBytes];
        for (var t = 0; t < job.Rows; t++)
        {
            var r = t % TileRows;
            var x = job.Input + (long)t * job.Blocks * 32;
            var dst = job.Tiles + t / TileRows * tileBytes + (long)b0 * tileBlock;
            for (var b = b0; b < b1; b++, dst += tileBlock)
            {
                var xb = x + b * 32;
                if (!SimdActivationQuant.TryQ8_0Block(xb, out var codes, out var bits))
                {
                    ActivationQuant.Quantize(GgmlType.Q8_0, xb, spill, 32);
                    codes = Vector256.Load(spill + 2);
                    bits = *(ushort*)spill;
                }
                var y = codes.AsSByte();
                if (wide)
                {
                    Avx512BW.ConvertToVector512Int16(y).Store((short*)(dst + 64 * r));
                    *(float*)(dst + TileRows * 64 + 4 * r) = Half16.ToFloat(bits);
                    continue;
                }
                y.Store((sbyte*)(dst + 32 * r));
                *(float*)(dst + TileRows * 32 + 4 * r) = Half16.ToFloat(bits);
                // Σ of 32 signed codes: pmaddubsw against ones, then pmaddwd against ones.
                var s = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256<byte>.One, y), Vector256<short>.One);
                *(int*)(dst + TileRows * 36 + 4 * r) = -offset * Vector256.Sum(s);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunChunk(void* context, int chunk)
    {
        ref var job = ref *(Job*)context;
        var (g0, g1) = job.Chunks.Range(chunk);
        var tileBytes = (long)job.Blocks * TileBlock(job.Type, job.Vnni);
        if (job.Vnni && job.Type is GgmlType.Q4_0 or GgmlType.Q8_0)
        {
            RunVnni(ref job, g0, g1, tileBytes);
            return;
        }
        for (var t0 = 0; t0 < job.Rows; t0 += TileRows)
        {
            var count = Math.Min(TileRows, job.Rows - t0);
            var tile = job.Tiles + t0 / TileRows * tileBytes;
            for (var g = g0; g < g1; g++)
            {
                switch (job.Type, count)
                {
                    case (GgmlType.Q4_0, 1): TileQ4_0<R1>(ref job, tile, g, t0); break;
                    case (GgmlType.Q4_0, 2): TileQ4_0<R2>(ref job, tile, g, t0); break;
                    case (GgmlType.Q4_0, 3): TileQ4_0<R3>(ref job, tile, g, t0); break;
                    case (GgmlType.Q4_0, 4): TileQ4_0<R4>(ref job, tile, g, t0); break;
                    case (GgmlType.Q4_0, 5): TileQ4_0<R5>(ref job, tile, g, t0); break;
                    case (GgmlType.Q4_0, 6): TileQ4_0<R6>(ref job, tile, g, t0); break;
                    case (GgmlType.Q4_0, 7): TileQ4_0<R7>(ref job, tile, g, t0); break;
                    case (GgmlType.Q4_0, _): TileQ4_0<R8>(ref job, tile, g, t0); break;
                    case (GgmlType.Q5_0, 1): TileQ5_0<R1>(ref job, tile, g, t0); break;
                    case (GgmlType.Q5_0, 2): TileQ5_0<R2>(ref job, tile, g, t0); break;
                    case (GgmlType.Q5_0, 3): TileQ5_0<R3>(ref job, tile, g, t0); break;
                    case (GgmlType.Q5_0, 4): TileQ5_0<R4>(ref job, tile, g, t0); break;
                    case (GgmlType.Q5_0, 5): TileQ5_0<R5>(ref job, tile, g, t0); break;
                    case (GgmlType.Q5_0, 6): TileQ5_0<R6>(ref job, tile, g, t0); break;
                    case (GgmlType.Q5_0, 7): TileQ5_0<R7>(ref job, tile, g, t0); break;
                    case (GgmlType.Q5_0, _): TileQ5_0<R8>(ref job, tile, g, t0); break;
                    case (GgmlType.Q8_0, 1): TileQ8_0<R1>(ref job, tile, g, t0); break;
                    case (GgmlType.Q8_0, 2): TileQ8_0<R2>(ref job, tile, g, t0); break;
                    case (GgmlType.Q8_0, 3): TileQ8_0<R3>(ref job, tile, g, t0); break;
                    case (GgmlType.Q8_0, 4): TileQ8_0<R4>(ref job, tile, g, t0); break;
                    case (GgmlType.Q8_0, 5): TileQ8_0<R5>(ref job, tile, g, t0); break;
                    case (GgmlType.Q8_0, 6): TileQ8_0<R6>(ref job, tile, g, t0); break;
                    case (GgmlType.Q8_0, 7): TileQ8_0<R7>(ref job, tile, g, t0); break;
                    default: TileQ8_0<R8>(ref job, tile, g, t0); break;
                }
            }
        }
    }

    /// <summary>Groups [g0, g1) through the machine-code VNNI kernels, which return each row's sixteen sums.</summary>
    private static void RunVnni(ref Job job, int g0, int g1, long tileBytes)
    {
        var sums = stackalloc float[TileRows * GroupRows];
        for (var t0 = 0; t0 < job.Rows; t0 += TileRows)
        {
            var count = Math.Min(TileRows, job.Rows - t0);
            var kernel = job.Type == GgmlType.Q8_0 ? VnniKernels.Q8_0(count) : VnniKernels.Q4_0(count);
            var codeBytes = CodeBytes(job.Type);
            var tile = job.Tiles + t0 / TileRows * tileBytes;
            for (var g = g0; g < g1; g++)
            {
                var codes = job.Weight + g * job.GroupBytes;
                kernel(codes, (ushort*)(codes + job.Blocks * (long)codeBytes), tile, job.Blocks, sums);
                for (var r = 0; r < count; r++) Store(ref job, Vector512.Load(sums + GroupRows * r), g, t0 + r);
            }
        }
    }

    /// <summary>Sixteen binary16 values to float, exact for every finite value: the magnitude bits moved into a float's
    /// place and rescaled by 2^112 (the exponent bias difference), then the sign. Scales are never Inf or NaN.</summary>
    private static readonly float Two112 = BitConverter.Int32BitsToSingle((112 + 127) << 23);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalvesToFloats(ushort* p)
    {
        var h = Avx512F.ConvertToVector512Int32(Vector256.Load(p));
        var magnitude = Avx512F.ShiftLeftLogical(h & Vector512.Create(0x7FFF), 13).AsSingle() * Vector512.Create(Two112);
        return (magnitude.AsInt32() | Avx512F.ShiftLeftLogical(h & Vector512.Create(0x8000), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Broadcast(byte* p) => Vector512.Create(*(int*)p).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scale(byte* block, int r) => *(float*)(block + TileRows * 32 + 4 * r);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Offset(byte* block, int r) => *(int*)(block + TileRows * 36 + 4 * r);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Widen(Vector512<short> pairs) => Avx512BW.MultiplyAddAdjacent(pairs, Vector512<short>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Pairs(Vector512<byte> codes, Vector512<sbyte> y) => Avx512BW.MultiplyAddAdjacent(codes, y);

    /// <summary>Stores the sixteen rows of group <paramref name="g"/> for activation row <paramref name="t"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref Job job, Vector512<float> acc, int g, int t)
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
    private static void TileQ4_0<TR>(ref Job job, byte* tile, int g, int t0) where TR : struct, IRows
    {
        var blocks = job.Blocks;
        var codes = job.Weight + g * job.GroupBytes;
        var scales = (ushort*)(codes + blocks * 256L);
        var a = tile;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        var low = Vector512.Create((byte)0x0F);
        for (var b = 0; b < blocks; b++, codes += 256, scales += 16, a += TileBlockBytes)
        {
            Prefetch<TR>(codes + PrefetchDistance);
            Prefetch<TR>(codes + PrefetchDistance + 64);
            Prefetch<TR>(codes + PrefetchDistance + 128);
            Prefetch<TR>(codes + PrefetchDistance + 192);
            Prefetch<TR>((byte*)scales + PrefetchDistance / 8);
            var dw = HalvesToFloats(scales);
            Vector512<short> p0 = default, p1 = default, p2 = default, p3 = default, p4 = default, p5 = default, p6 = default, p7 = default;
            // Unrolled by hand: the JIT keeps constant-trip loops, and their counters cost as much as the work.
            var v = Vector512.Load(codes + 64 * 0);
            var lo = v & low;
            var hi = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
            p0 = Pairs(lo, Broadcast(a + 0)) + Pairs(hi, Broadcast(a + 16));
            if (TR.Count > 1) p1 = Pairs(lo, Broadcast(a + 32)) + Pairs(hi, Broadcast(a + 48));
            if (TR.Count > 2) p2 = Pairs(lo, Broadcast(a + 64)) + Pairs(hi, Broadcast(a + 80));
            if (TR.Count > 3) p3 = Pairs(lo, Broadcast(a + 96)) + Pairs(hi, Broadcast(a + 112));
            if (TR.Count > 4) p4 = Pairs(lo, Broadcast(a + 128)) + Pairs(hi, Broadcast(a + 144));
            if (TR.Count > 5) p5 = Pairs(lo, Broadcast(a + 160)) + Pairs(hi, Broadcast(a + 176));
            if (TR.Count > 6) p6 = Pairs(lo, Broadcast(a + 192)) + Pairs(hi, Broadcast(a + 208));
            if (TR.Count > 7) p7 = Pairs(lo, Broadcast(a + 224)) + Pairs(hi, Broadcast(a + 240));
            v = Vector512.Load(codes + 64 * 1);
            lo = v & low;
            hi = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
            p0 += Pairs(lo, Broadcast(a + 4)) + Pairs(hi, Broadcast(a + 20));
            if (TR.Count > 1) p1 += Pairs(lo, Broadcast(a + 36)) + Pairs(hi, Broadcast(a + 52));
            if (TR.Count > 2) p2 += Pairs(lo, Broadcast(a + 68)) + Pairs(hi, Broadcast(a + 84));
            if (TR.Count > 3) p3 += Pairs(lo, Broadcast(a + 100)) + Pairs(hi, Broadcast(a + 116));
            if (TR.Count > 4) p4 += Pairs(lo, Broadcast(a + 132)) + Pairs(hi, Broadcast(a + 148));
            if (TR.Count > 5) p5 += Pairs(lo, Broadcast(a + 164)) + Pairs(hi, Broadcast(a + 180));
            if (TR.Count > 6) p6 += Pairs(lo, Broadcast(a + 196)) + Pairs(hi, Broadcast(a + 212));
            if (TR.Count > 7) p7 += Pairs(lo, Broadcast(a + 228)) + Pairs(hi, Broadcast(a + 244));
            v = Vector512.Load(codes + 64 * 2);
            lo = v & low;
            hi = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
            p0 += Pairs(lo, Broadcast(a + 8)) + Pairs(hi, Broadcast(a + 24));
            if (TR.Count > 1) p1 += Pairs(lo, Broadcast(a + 40)) + Pairs(hi, Broadcast(a + 56));
            if (TR.Count > 2) p2 += Pairs(lo, Broadcast(a + 72)) + Pairs(hi, Broadcast(a + 88));
            if (TR.Count > 3) p3 += Pairs(lo, Broadcast(a + 104)) + Pairs(hi, Broadcast(a + 120));
            if (TR.Count > 4) p4 += Pairs(lo, Broadcast(a + 136)) + Pairs(hi, Broadcast(a + 152));
            if (TR.Count > 5) p5 += Pairs(lo, Broadcast(a + 168)) + Pairs(hi, Broadcast(a + 184));
            if (TR.Count > 6) p6 += Pairs(lo, Broadcast(a + 200)) + Pairs(hi, Broadcast(a + 216));
            if (TR.Count > 7) p7 += Pairs(lo, Broadcast(a + 232)) + Pairs(hi, Broadcast(a + 248));
            v = Vector512.Load(codes + 64 * 3);
            lo = v & low;
            hi = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
            p0 += Pairs(lo, Broadcast(a + 12)) + Pairs(hi, Broadcast(a + 28));
            if (TR.Count > 1) p1 += Pairs(lo, Broadcast(a + 44)) + Pairs(hi, Broadcast(a + 60));
            if (TR.Count > 2) p2 += Pairs(lo, Broadcast(a + 76)) + Pairs(hi, Broadcast(a + 92));
            if (TR.Count > 3) p3 += Pairs(lo, Broadcast(a + 108)) + Pairs(hi, Broadcast(a + 124));
            if (TR.Count > 4) p4 += Pairs(lo, Broadcast(a + 140)) + Pairs(hi, Broadcast(a + 156));
            if (TR.Count > 5) p5 += Pairs(lo, Broadcast(a + 172)) + Pairs(hi, Broadcast(a + 188));
            if (TR.Count > 6) p6 += Pairs(lo, Broadcast(a + 204)) + Pairs(hi, Broadcast(a + 220));
            if (TR.Count > 7) p7 += Pairs(lo, Broadcast(a + 236)) + Pairs(hi, Broadcast(a + 252));
            acc0 += Vector512.ConvertToSingle(Widen(p0) + Vector512.Create(Offset(a, 0))) * (dw * Vector512.Create(Scale(a, 0)));
            if (TR.Count > 1) acc1 += Vector512.ConvertToSingle(Widen(p1) + Vector512.Create(Offset(a, 1))) * (dw * Vector512.Create(Scale(a, 1)));
            if (TR.Count > 2) acc2 += Vector512.ConvertToSingle(Widen(p2) + Vector512.Create(Offset(a, 2))) * (dw * Vector512.Create(Scale(a, 2)));
            if (TR.Count > 3) acc3 += Vector512.ConvertToSingle(Widen(p3) + Vector512.Create(Offset(a, 3))) * (dw * Vector512.Create(Scale(a, 3)));
            if (TR.Count > 4) acc4 += Vector512.ConvertToSingle(Widen(p4) + Vector512.Create(Offset(a, 4))) * (dw * Vector512.Create(Scale(a, 4)));
            if (TR.Count > 5) acc5 += Vector512.ConvertToSingle(Widen(p5) + Vector512.Create(Offset(a, 5))) * (dw * Vector512.Create(Scale(a, 5)));
            if (TR.Count > 6) acc6 += Vector512.ConvertToSingle(Widen(p6) + Vector512.Create(Offset(a, 6))) * (dw * Vector512.Create(Scale(a, 6)));
            if (TR.Count > 7) acc7 += Vector512.ConvertToSingle(Widen(p7) + Vector512.Create(Offset(a, 7))) * (dw * Vector512.Create(Scale(a, 7)));
        }
        Store(ref job, acc0, g, t0 + 0);
        if (TR.Count > 1) Store(ref job, acc1, g, t0 + 1);
        if (TR.Count > 2) Store(ref job, acc2, g, t0 + 2);
        if (TR.Count > 3) Store(ref job, acc3, g, t0 + 3);
        if (TR.Count > 4) Store(ref job, acc4, g, t0 + 4);
        if (TR.Count > 5) Store(ref job, acc5, g, t0 + 5);
        if (TR.Count > 6) Store(ref job, acc6, g, t0 + 6);
        if (TR.Count > 7) Store(ref job, acc7, g, t0 + 7);
    }

    /// <summary>Bit 4 of each byte set where bit <paramref name="step"/> of the fifth-bit vector is (16-bit shifts keep
    /// the bits that cross a byte boundary out of bit 4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Fifth(Vector512<ushort> bits, int step) =>
        (step <= 4 ? Vector512.ShiftLeft(bits, 4 - step) : Vector512.ShiftRightLogical(bits, step - 4)).AsByte() & Vector512.Create((byte)0x10);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileQ5_0<TR>(ref Job job, byte* tile, int g, int t0) where TR : struct, IRows
    {
        var blocks = job.Blocks;
        var codes = job.Weight + g * job.GroupBytes;
        var high = codes + blocks * 256L;
        var scales = (ushort*)(high + blocks * 64L);
        var a = tile;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        var low = Vector512.Create((byte)0x0F);
        for (var b = 0; b < blocks; b++, codes += 256, high += 64, scales += 16, a += TileBlockBytes)
        {
            Prefetch<TR>(codes + PrefetchDistance);
            Prefetch<TR>(codes + PrefetchDistance + 64);
            Prefetch<TR>(codes + PrefetchDistance + 128);
            Prefetch<TR>(codes + PrefetchDistance + 192);
            Prefetch<TR>(high + PrefetchDistance / 4);
            Prefetch<TR>((byte*)scales + PrefetchDistance / 8);
            var dw = HalvesToFloats(scales);
            var bits = Vector512.Load(high).AsUInt16();
            // Steps 0..3 (low nibbles) and 4..7 (high nibbles) in separate int16 sums: four steps of 31·127·2 fit.
            Vector512<short> p0 = default, p1 = default, p2 = default, p3 = default, p4 = default, p5 = default, p6 = default, p7 = default;
            Vector512<short> q0 = default, q1 = default, q2 = default, q3 = default, q4 = default, q5 = default, q6 = default, q7 = default;
            // Unrolled by hand: the JIT keeps constant-trip loops, and their counters cost as much as the work.
            var v = Vector512.Load(codes + 64 * 0);
            var lo = (v & low) | Fifth(bits, 0);
            var hi = (Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low) | Fifth(bits, 4);
            p0 = Pairs(lo, Broadcast(a + 0)); q0 = Pairs(hi, Broadcast(a + 16));
            if (TR.Count > 1) { p1 = Pairs(lo, Broadcast(a + 32)); q1 = Pairs(hi, Broadcast(a + 48)); }
            if (TR.Count > 2) { p2 = Pairs(lo, Broadcast(a + 64)); q2 = Pairs(hi, Broadcast(a + 80)); }
            if (TR.Count > 3) { p3 = Pairs(lo, Broadcast(a + 96)); q3 = Pairs(hi, Broadcast(a + 112)); }
            if (TR.Count > 4) { p4 = Pairs(lo, Broadcast(a + 128)); q4 = Pairs(hi, Broadcast(a + 144)); }
            if (TR.Count > 5) { p5 = Pairs(lo, Broadcast(a + 160)); q5 = Pairs(hi, Broadcast(a + 176)); }
            if (TR.Count > 6) { p6 = Pairs(lo, Broadcast(a + 192)); q6 = Pairs(hi, Broadcast(a + 208)); }
            if (TR.Count > 7) { p7 = Pairs(lo, Broadcast(a + 224)); q7 = Pairs(hi, Broadcast(a + 240)); }
            v = Vector512.Load(codes + 64 * 1);
            lo = (v & low) | Fifth(bits, 1);
            hi = (Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low) | Fifth(bits, 5);
            p0 += Pairs(lo, Broadcast(a + 4)); q0 += Pairs(hi, Broadcast(a + 20));
            if (TR.Count > 1) { p1 += Pairs(lo, Broadcast(a + 36)); q1 += Pairs(hi, Broadcast(a + 52)); }
            if (TR.Count > 2) { p2 += Pairs(lo, Broadcast(a + 68)); q2 += Pairs(hi, Broadcast(a + 84)); }
            if (TR.Count > 3) { p3 += Pairs(lo, Broadcast(a + 100)); q3 += Pairs(hi, Broadcast(a + 116)); }
            if (TR.Count > 4) { p4 += Pairs(lo, Broadcast(a + 132)); q4 += Pairs(hi, Broadcast(a + 148)); }
            if (TR.Count > 5) { p5 += Pairs(lo, Broadcast(a + 164)); q5 += Pairs(hi, Broadcast(a + 180)); }
            if (TR.Count > 6) { p6 += Pairs(lo, Broadcast(a + 196)); q6 += Pairs(hi, Broadcast(a + 212)); }
            if (TR.Count > 7) { p7 += Pairs(lo, Broadcast(a + 228)); q7 += Pairs(hi, Broadcast(a + 244)); }
            v = Vector512.Load(codes + 64 * 2);
            lo = (v & low) | Fifth(bits, 2);
            hi = (Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low) | Fifth(bits, 6);
            p0 += Pairs(lo, Broadcast(a + 8)); q0 += Pairs(hi, Broadcast(a + 24));
            if (TR.Count > 1) { p1 += Pairs(lo, Broadcast(a + 40)); q1 += Pairs(hi, Broadcast(a + 56)); }
            if (TR.Count > 2) { p2 += Pairs(lo, Broadcast(a + 72)); q2 += Pairs(hi, Broadcast(a + 88)); }
            if (TR.Count > 3) { p3 += Pairs(lo, Broadcast(a + 104)); q3 += Pairs(hi, Broadcast(a + 120)); }
            if (TR.Count > 4) { p4 += Pairs(lo, Broadcast(a + 136)); q4 += Pairs(hi, Broadcast(a + 152)); }
            if (TR.Count > 5) { p5 += Pairs(lo, Broadcast(a + 168)); q5 += Pairs(hi, Broadcast(a + 184)); }
            if (TR.Count > 6) { p6 += Pairs(lo, Broadcast(a + 200)); q6 += Pairs(hi, Broadcast(a + 216)); }
            if (TR.Count > 7) { p7 += Pairs(lo, Broadcast(a + 232)); q7 += Pairs(hi, Broadcast(a + 248)); }
            v = Vector512.Load(codes + 64 * 3);
            lo = (v & low) | Fifth(bits, 3);
            hi = (Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low) | Fifth(bits, 7);
            p0 += Pairs(lo, Broadcast(a + 12)); q0 += Pairs(hi, Broadcast(a + 28));
            if (TR.Count > 1) { p1 += Pairs(lo, Broadcast(a + 44)); q1 += Pairs(hi, Broadcast(a + 60)); }
            if (TR.Count > 2) { p2 += Pairs(lo, Broadcast(a + 76)); q2 += Pairs(hi, Broadcast(a + 92)); }
            if (TR.Count > 3) { p3 += Pairs(lo, Broadcast(a + 108)); q3 += Pairs(hi, Broadcast(a + 124)); }
            if (TR.Count > 4) { p4 += Pairs(lo, Broadcast(a + 140)); q4 += Pairs(hi, Broadcast(a + 156)); }
            if (TR.Count > 5) { p5 += Pairs(lo, Broadcast(a + 172)); q5 += Pairs(hi, Broadcast(a + 188)); }
            if (TR.Count > 6) { p6 += Pairs(lo, Broadcast(a + 204)); q6 += Pairs(hi, Broadcast(a + 220)); }
            if (TR.Count > 7) { p7 += Pairs(lo, Broadcast(a + 236)); q7 += Pairs(hi, Broadcast(a + 252)); }
            acc0 += Vector512.ConvertToSingle(Widen(p0) + Widen(q0) + Vector512.Create(Offset(a, 0))) * (dw * Vector512.Create(Scale(a, 0)));
            if (TR.Count > 1) acc1 += Vector512.ConvertToSingle(Widen(p1) + Widen(q1) + Vector512.Create(Offset(a, 1))) * (dw * Vector512.Create(Scale(a, 1)));
            if (TR.Count > 2) acc2 += Vector512.ConvertToSingle(Widen(p2) + Widen(q2) + Vector512.Create(Offset(a, 2))) * (dw * Vector512.Create(Scale(a, 2)));
            if (TR.Count > 3) acc3 += Vector512.ConvertToSingle(Widen(p3) + Widen(q3) + Vector512.Create(Offset(a, 3))) * (dw * Vector512.Create(Scale(a, 3)));
            if (TR.Count > 4) acc4 += Vector512.ConvertToSingle(Widen(p4) + Widen(q4) + Vector512.Create(Offset(a, 4))) * (dw * Vector512.Create(Scale(a, 4)));
            if (TR.Count > 5) acc5 += Vector512.ConvertToSingle(Widen(p5) + Widen(q5) + Vector512.Create(Offset(a, 5))) * (dw * Vector512.Create(Scale(a, 5)));
            if (TR.Count > 6) acc6 += Vector512.ConvertToSingle(Widen(p6) + Widen(q6) + Vector512.Create(Offset(a, 6))) * (dw * Vector512.Create(Scale(a, 6)));
            if (TR.Count > 7) acc7 += Vector512.ConvertToSingle(Widen(p7) + Widen(q7) + Vector512.Create(Offset(a, 7))) * (dw * Vector512.Create(Scale(a, 7)));
        }
        Store(ref job, acc0, g, t0 + 0);
        if (TR.Count > 1) Store(ref job, acc1, g, t0 + 1);
        if (TR.Count > 2) Store(ref job, acc2, g, t0 + 2);
        if (TR.Count > 3) Store(ref job, acc3, g, t0 + 3);
        if (TR.Count > 4) Store(ref job, acc4, g, t0 + 4);
        if (TR.Count > 5) Store(ref job, acc5, g, t0 + 5);
        if (TR.Count > 6) Store(ref job, acc6, g, t0 + 6);
        if (TR.Count > 7) Store(ref job, acc7, g, t0 + 7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Broadcast16(byte* p) => Broadcast(p).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> WideStep(byte* codes) => Avx512BW.ConvertToVector512Int16(Vector256.Load((sbyte*)codes));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot(Vector512<short> w, Vector512<short> y) => Avx512BW.MultiplyAddAdjacent(w, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float WideScale(byte* block, int r) => *(float*)(block + TileRows * 64 + 4 * r);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileQ8_0<TR>(ref Job job, byte* tile, int g, int t0) where TR : struct, IRows
    {
        var blocks = job.Blocks;
        var codes = job.Weight + g * job.GroupBytes;
        var scales = (ushort*)(codes + blocks * 512L);
        var a = tile;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        for (var b = 0; b < blocks; b++, codes += 512, scales += 16, a += WideTileBlockBytes)
        {
            Prefetch<TR>(codes + PrefetchDistance);
            Prefetch<TR>(codes + PrefetchDistance + 64);
            Prefetch<TR>(codes + PrefetchDistance + 128);
            Prefetch<TR>(codes + PrefetchDistance + 192);
            Prefetch<TR>(codes + PrefetchDistance + 256);
            Prefetch<TR>(codes + PrefetchDistance + 320);
            Prefetch<TR>(codes + PrefetchDistance + 384);
            Prefetch<TR>(codes + PrefetchDistance + 448);
            Prefetch<TR>((byte*)scales + PrefetchDistance / 16);
            var dw = HalvesToFloats(scales);
            // Int32 pair sums straight from vpmaddwd: sixteen steps of 2·127·127 cannot overflow.
            Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            // Unrolled by hand: the JIT keeps constant-trip loops, and their counters cost as much as the work.
            var w0 = WideStep(codes + 0);
            s0 = Dot(w0, Broadcast16(a + 0));
            if (TR.Count > 1) s1 = Dot(w0, Broadcast16(a + 64));
            if (TR.Count > 2) s2 = Dot(w0, Broadcast16(a + 128));
            if (TR.Count > 3) s3 = Dot(w0, Broadcast16(a + 192));
            if (TR.Count > 4) s4 = Dot(w0, Broadcast16(a + 256));
            if (TR.Count > 5) s5 = Dot(w0, Broadcast16(a + 320));
            if (TR.Count > 6) s6 = Dot(w0, Broadcast16(a + 384));
            if (TR.Count > 7) s7 = Dot(w0, Broadcast16(a + 448));
            var w1 = WideStep(codes + 32);
            s0 += Dot(w1, Broadcast16(a + 4));
            if (TR.Count > 1) s1 += Dot(w1, Broadcast16(a + 68));
            if (TR.Count > 2) s2 += Dot(w1, Broadcast16(a + 132));
            if (TR.Count > 3) s3 += Dot(w1, Broadcast16(a + 196));
            if (TR.Count > 4) s4 += Dot(w1, Broadcast16(a + 260));
            if (TR.Count > 5) s5 += Dot(w1, Broadcast16(a + 324));
            if (TR.Count > 6) s6 += Dot(w1, Broadcast16(a + 388));
            if (TR.Count > 7) s7 += Dot(w1, Broadcast16(a + 452));
            w0 = WideStep(codes + 64);
            s0 += Dot(w0, Broadcast16(a + 8));
            if (TR.Count > 1) s1 += Dot(w0, Broadcast16(a + 72));
            if (TR.Count > 2) s2 += Dot(w0, Broadcast16(a + 136));
            if (TR.Count > 3) s3 += Dot(w0, Broadcast16(a + 200));
            if (TR.Count > 4) s4 += Dot(w0, Broadcast16(a + 264));
            if (TR.Count > 5) s5 += Dot(w0, Broadcast16(a + 328));
            if (TR.Count > 6) s6 += Dot(w0, Broadcast16(a + 392));
            if (TR.Count > 7) s7 += Dot(w0, Broadcast16(a + 456));
            w1 = WideStep(codes + 96);
            s0 += Dot(w1, Broadcast16(a + 12));
            if (TR.Count > 1) s1 += Dot(w1, Broadcast16(a + 76));
            if (TR.Count > 2) s2 += Dot(w1, Broadcast16(a + 140));
            if (TR.Count > 3) s3 += Dot(w1, Broadcast16(a + 204));
            if (TR.Count > 4) s4 += Dot(w1, Broadcast16(a + 268));
            if (TR.Count > 5) s5 += Dot(w1, Broadcast16(a + 332));
            if (TR.Count > 6) s6 += Dot(w1, Broadcast16(a + 396));
            if (TR.Count > 7) s7 += Dot(w1, Broadcast16(a + 460));
            w0 = WideStep(codes + 128);
            s0 += Dot(w0, Broadcast16(a + 16));
            if (TR.Count > 1) s1 += Dot(w0, Broadcast16(a + 80));
            if (TR.Count > 2) s2 += Dot(w0, Broadcast16(a + 144));
            if (TR.Count > 3) s3 += Dot(w0, Broadcast16(a + 208));
            if (TR.Count > 4) s4 += Dot(w0, Broadcast16(a + 272));
            if (TR.Count > 5) s5 += Dot(w0, Broadcast16(a + 336));
            if (TR.Count > 6) s6 += Dot(w0, Broadcast16(a + 400));
            if (TR.Count > 7) s7 += Dot(w0, Broadcast16(a + 464));
            w1 = WideStep(codes + 160);
            s0 += Dot(w1, Broadcast16(a + 20));
            if (TR.Count > 1) s1 += Dot(w1, Broadcast16(a + 84));
            if (TR.Count > 2) s2 += Dot(w1, Broadcast16(a + 148));
            if (TR.Count > 3) s3 += Dot(w1, Broadcast16(a + 212));
            if (TR.Count > 4) s4 += Dot(w1, Broadcast16(a + 276));
            if (TR.Count > 5) s5 += Dot(w1, Broadcast16(a + 340));
            if (TR.Count > 6) s6 += Dot(w1, Broadcast16(a + 404));
            if (TR.Count > 7) s7 += Dot(w1, Broadcast16(a + 468));
            w0 = WideStep(codes + 192);
            s0 += Dot(w0, Broadcast16(a + 24));
            if (TR.Count > 1) s1 += Dot(w0, Broadcast16(a + 88));
            if (TR.Count > 2) s2 += Dot(w0, Broadcast16(a + 152));
            if (TR.Count > 3) s3 += Dot(w0, Broadcast16(a + 216));
            if (TR.Count > 4) s4 += Dot(w0, Broadcast16(a + 280));
            if (TR.Count > 5) s5 += Dot(w0, Broadcast16(a + 344));
            if (TR.Count > 6) s6 += Dot(w0, Broadcast16(a + 408));
            if (TR.Count > 7) s7 += Dot(w0, Broadcast16(a + 472));
            w1 = WideStep(codes + 224);
            s0 += Dot(w1, Broadcast16(a + 28));
            if (TR.Count > 1) s1 += Dot(w1, Broadcast16(a + 92));
            if (TR.Count > 2) s2 += Dot(w1, Broadcast16(a + 156));
            if (TR.Count > 3) s3 += Dot(w1, Broadcast16(a + 220));
            if (TR.Count > 4) s4 += Dot(w1, Broadcast16(a + 284));
            if (TR.Count > 5) s5 += Dot(w1, Broadcast16(a + 348));
            if (TR.Count > 6) s6 += Dot(w1, Broadcast16(a + 412));
            if (TR.Count > 7) s7 += Dot(w1, Broadcast16(a + 476));
            w0 = WideStep(codes + 256);
            s0 += Dot(w0, Broadcast16(a + 32));
            if (TR.Count > 1) s1 += Dot(w0, Broadcast16(a + 96));
            if (TR.Count > 2) s2 += Dot(w0, Broadcast16(a + 160));
            if (TR.Count > 3) s3 += Dot(w0, Broadcast16(a + 224));
            if (TR.Count > 4) s4 += Dot(w0, Broadcast16(a + 288));
            if (TR.Count > 5) s5 += Dot(w0, Broadcast16(a + 352));
            if (TR.Count > 6) s6 += Dot(w0, Broadcast16(a + 416));
            if (TR.Count > 7) s7 += Dot(w0, Broadcast16(a + 480));
            w1 = WideStep(codes + 288);
            s0 += Dot(w1, Broadcast16(a + 36));
            if (TR.Count > 1) s1 += Dot(w1, Broadcast16(a + 100));
            if (TR.Count > 2) s2 += Dot(w1, Broadcast16(a + 164));
            if (TR.Count > 3) s3 += Dot(w1, Broadcast16(a + 228));
            if (TR.Count > 4) s4 += Dot(w1, Broadcast16(a + 292));
            if (TR.Count > 5) s5 += Dot(w1, Broadcast16(a + 356));
            if (TR.Count > 6) s6 += Dot(w1, Broadcast16(a + 420));
            if (TR.Count > 7) s7 += Dot(w1, Broadcast16(a + 484));
            w0 = WideStep(codes + 320);
            s0 += Dot(w0, Broadcast16(a + 40));
            if (TR.Count > 1) s1 += Dot(w0, Broadcast16(a + 104));
            if (TR.Count > 2) s2 += Dot(w0, Broadcast16(a + 168));
            if (TR.Count > 3) s3 += Dot(w0, Broadcast16(a + 232));
            if (TR.Count > 4) s4 += Dot(w0, Broadcast16(a + 296));
            if (TR.Count > 5) s5 += Dot(w0, Broadcast16(a + 360));
            if (TR.Count > 6) s6 += Dot(w0, Broadcast16(a + 424));
            if (TR.Count > 7) s7 += Dot(w0, Broadcast16(a + 488));
            w1 = WideStep(codes + 352);
            s0 += Dot(w1, Broadcast16(a + 44));
            if (TR.Count > 1) s1 += Dot(w1, Broadcast16(a + 108));
            if (TR.Count > 2) s2 += Dot(w1, Broadcast16(a + 172));
            if (TR.Count > 3) s3 += Dot(w1, Broadcast16(a + 236));
            if (TR.Count > 4) s4 += Dot(w1, Broadcast16(a + 300));
            if (TR.Count > 5) s5 += Dot(w1, Broadcast16(a + 364));
            if (TR.Count > 6) s6 += Dot(w1, Broadcast16(a + 428));
            if (TR.Count > 7) s7 += Dot(w1, Broadcast16(a + 492));
            w0 = WideStep(codes + 384);
            s0 += Dot(w0, Broadcast16(a + 48));
            if (TR.Count > 1) s1 += Dot(w0, Broadcast16(a + 112));
            if (TR.Count > 2) s2 += Dot(w0, Broadcast16(a + 176));
            if (TR.Count > 3) s3 += Dot(w0, Broadcast16(a + 240));
            if (TR.Count > 4) s4 += Dot(w0, Broadcast16(a + 304));
            if (TR.Count > 5) s5 += Dot(w0, Broadcast16(a + 368));
            if (TR.Count > 6) s6 += Dot(w0, Broadcast16(a + 432));
            if (TR.Count > 7) s7 += Dot(w0, Broadcast16(a + 496));
            w1 = WideStep(codes + 416);
            s0 += Dot(w1, Broadcast16(a + 52));
            if (TR.Count > 1) s1 += Dot(w1, Broadcast16(a + 116));
            if (TR.Count > 2) s2 += Dot(w1, Broadcast16(a + 180));
            if (TR.Count > 3) s3 += Dot(w1, Broadcast16(a + 244));
            if (TR.Count > 4) s4 += Dot(w1, Broadcast16(a + 308));
            if (TR.Count > 5) s5 += Dot(w1, Broadcast16(a + 372));
            if (TR.Count > 6) s6 += Dot(w1, Broadcast16(a + 436));
            if (TR.Count > 7) s7 += Dot(w1, Broadcast16(a + 500));
            w0 = WideStep(codes + 448);
            s0 += Dot(w0, Broadcast16(a + 56));
            if (TR.Count > 1) s1 += Dot(w0, Broadcast16(a + 120));
            if (TR.Count > 2) s2 += Dot(w0, Broadcast16(a + 184));
            if (TR.Count > 3) s3 += Dot(w0, Broadcast16(a + 248));
            if (TR.Count > 4) s4 += Dot(w0, Broadcast16(a + 312));
            if (TR.Count > 5) s5 += Dot(w0, Broadcast16(a + 376));
            if (TR.Count > 6) s6 += Dot(w0, Broadcast16(a + 440));
            if (TR.Count > 7) s7 += Dot(w0, Broadcast16(a + 504));
            w1 = WideStep(codes + 480);
            s0 += Dot(w1, Broadcast16(a + 60));
            if (TR.Count > 1) s1 += Dot(w1, Broadcast16(a + 124));
            if (TR.Count > 2) s2 += Dot(w1, Broadcast16(a + 188));
            if (TR.Count > 3) s3 += Dot(w1, Broadcast16(a + 252));
            if (TR.Count > 4) s4 += Dot(w1, Broadcast16(a + 316));
            if (TR.Count > 5) s5 += Dot(w1, Broadcast16(a + 380));
            if (TR.Count > 6) s6 += Dot(w1, Broadcast16(a + 444));
            if (TR.Count > 7) s7 += Dot(w1, Broadcast16(a + 508));
            acc0 += Vector512.ConvertToSingle(s0) * (dw * Vector512.Create(WideScale(a, 0)));
            if (TR.Count > 1) acc1 += Vector512.ConvertToSingle(s1) * (dw * Vector512.Create(WideScale(a, 1)));
            if (TR.Count > 2) acc2 += Vector512.ConvertToSingle(s2) * (dw * Vector512.Create(WideScale(a, 2)));
            if (TR.Count > 3) acc3 += Vector512.ConvertToSingle(s3) * (dw * Vector512.Create(WideScale(a, 3)));
            if (TR.Count > 4) acc4 += Vector512.ConvertToSingle(s4) * (dw * Vector512.Create(WideScale(a, 4)));
            if (TR.Count > 5) acc5 += Vector512.ConvertToSingle(s5) * (dw * Vector512.Create(WideScale(a, 5)));
            if (TR.Count > 6) acc6 += Vector512.ConvertToSingle(s6) * (dw * Vector512.Create(WideScale(a, 6)));
            if (TR.Count > 7) acc7 += Vector512.ConvertToSingle(s7) * (dw * Vector512.Create(WideScale(a, 7)));
        }
        Store(ref job, acc0, g, t0 + 0);
        if (TR.Count > 1) Store(ref job, acc1, g, t0 + 1);
        if (TR.Count > 2) Store(ref job, acc2, g, t0 + 2);
        if (TR.Count > 3) Store(ref job, acc3, g, t0 + 3);
        if (TR.Count > 4) Store(ref job, acc4, g, t0 + 4);
        if (TR.Count > 5) Store(ref job, acc5, g, t0 + 5);
        if (TR.Count > 6) Store(ref job, acc6, g, t0 + 6);
        if (TR.Count > 7) Store(ref job, acc7, g, t0 + 7);
    }
}
