using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Reference;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// Matrix × matrix for quantized weights (prompt processing). Both operands are rearranged into "lane groups" so that
/// one 8-lane int32 vpdpbusd accumulator holds eight whole block dot products at once, and the block scales apply
/// as one float vector multiply per eight blocks instead of a horizontal sum per block:
/// <list type="bullet">
/// <item>A group is 8 lanes × <c>steps</c> × 4 bytes. Lane l is one scale block of the format (a 32-block of
/// Q8_0/Q4_0/Q5_0, a 32-sub-block of Q4_K/Q5_K, a 16-sub-block of Q6_K); step j of the group is one 32-byte vector
/// whose bytes 4l..4l+3 are elements 4j..4j+3 of lane l.</item>
/// <item>Weight codes are stored unsigned (Q8_0 as w + 128, Q4_0 as w + 8, Q5_0 as w + 16, Q6_K as w + 32, Q4_K/Q5_K
/// as their raw codes), so vpdpbusd (u8 × s8) takes them; the offset comes back exactly in int32 as
/// −offset·Σy, with Σy per activation lane computed once at quantization. Q4_K/Q5_K mins come back exactly as
/// Σ min·Σy.</item>
/// <item>Activations are quantized exactly as the reference does (<see cref="ActivationQuant"/>), then rearranged.</item>
/// </list>
/// Tiles of 4 weight rows × 4 activation rows load each weight vector once per 4 activation rows; a thread packs its
/// chunk of weight rows once and then streams activation rows through it in cache-sized blocks.
/// Numerics: every block's integer dot product is exact, as in the reference. K-quants then combine per super-block
/// in the reference's float order, so they are bit-identical; for Q8_0/Q4_0/Q5_0 the float sum over blocks runs in
/// 8 lanes and is reduced at the end, so results differ from the reference by float rounding only (relative ~1e-6;
/// the parity tests name the tolerance). Without AVX-VNNI the same code runs on pmaddubsw/pmaddwd, which cannot
/// saturate for codes ≤ 63; Q8_0 (codes up to 255) then stays on the row-at-a-time path.
/// </summary>
internal static unsafe class TiledMatMul
{
    public const int TileRows = 4;       // weight rows per register tile
    public const int TileCols = 4;       // activation rows per register tile

    /// <summary>
    /// Fewest activation rows that take the tiled path. Packing re-reads and rewrites every weight row, which a few
    /// rows (a decode step of a small batch) cannot pay back: on a Qwen2.5-0.5B-shaped Q4_0 file at 2 threads, 4 rows
    /// ran at 0.4× the row-at-a-time path's rate and 8 rows at 0.7×. Overridable with FLYWHEEL_TILED_MIN_ROWS.
    /// </summary>
    public static readonly int MinRows =
        int.TryParse(Environment.GetEnvironmentVariable("FLYWHEEL_TILED_MIN_ROWS"), out var m) && m >= TileCols ? m : 16;
    private const int ColumnBlock = 64;  // activation rows streamed through a packed chunk while they stay in L2
    private const int ChunkBytes = 96 * 1024; // packed weight bytes per chunk (stays in L2 next to a column block)

    /// <summary>Whether the tiled path handles this weight type on this CPU (with or without VNNI as chosen).</summary>
    public static bool Supports(GgmlType type, bool vnni) => Avx2.IsSupported && type switch
    {
        GgmlType.Q8_0 => vnni,
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => true,
        _ => false,
    };

    public static bool VnniAvailable => AvxVnni.IsSupported;

    private static int Steps(GgmlType type) => type == GgmlType.Q6_K ? 4 : 8;

    // Codes, then 96 bytes: activations keep 8 float scales and 8 int32 code sums there; type-0 weights 8 float
    // scales; K-quant weights 8 int32 scales, 8 int32 mins and the super-block's float d and dmin.
    private static int GroupBytes(GgmlType type) => 32 * Steps(type) + 96;

    // Groups per K-quant super-block (the float combination happens once per super-block, as in the reference).
    private static int GroupsPerSuperBlock(GgmlType type) => type == GgmlType.Q6_K ? 2 : 1;

    private static int Groups(GgmlType type, int n) => (n + 32 * Steps(type) - 1) / (32 * Steps(type));

    /// <summary>Bytes of one packed activation or weight row.</summary>
    public static long PackedRowBytes(GgmlType type, int n) => (long)Groups(type, n) * GroupBytes(type);

    /// <summary>Bytes of the packed activations for <paramref name="rows"/> rows (padded to whole tiles).</summary>
    public static long ActivationBytes(GgmlType type, int n, int rows) =>
        PackedRowBytes(type, n) * ((rows + TileCols - 1) / TileCols * TileCols);

    /// <summary>Offset shift (offset = 1 &lt;&lt; shift) of the unsigned type-0 weight codes.</summary>
    private static int OffsetShift(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => 7,
        GgmlType.Q4_0 => 3,
        GgmlType.Q5_0 => 4,
        GgmlType.Q6_K => 5,
        _ => 0,
    };

    private static bool HasMins(GgmlType type) => type is GgmlType.Q4_K or GgmlType.Q5_K;

    private static bool IsKQuant(GgmlType type) => type is GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    [ThreadStatic] private static byte* t_buffer;
    [ThreadStatic] private static long t_bufferBytes;

    private static byte* ThreadBuffer(long bytes)
    {
        if (t_bufferBytes < bytes)
        {
            if (t_buffer != null) NativeMemory.AlignedFree(t_buffer);
            t_buffer = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            t_bufferBytes = bytes;
        }
        return t_buffer;
    }

    public struct Job
    {
        public byte* Weight;
        public long WeightRowBytes;
        public GgmlType Type;
        public byte* Act;            // [rows, act row bytes] activations in the reference's vec_dot layout
        public long ActRowBytes;
        public byte* Packed;         // [padded rows, packed row bytes] activations in lane groups
        public float* Output;        // [rows, out]
        public int Rows;
        public int InFeatures;
        public int OutFeatures;
        public int ChunkRows;        // weight rows per chunk (a multiple of TileRows)
        public bool Vnni;
    }

    /// <summary>Rearranges activation row <paramref name="chunk"/> (or zeroes a padding row).</summary>
    public static void PackActivationRow(void* context, int chunk)
    {
        ref var job = ref *(Job*)context;
        var rowBytes = PackedRowBytes(job.Type, job.InFeatures);
        var dst = job.Packed + chunk * rowBytes;
        if (chunk >= job.Rows)
        {
            new Span<byte>(dst, checked((int)rowBytes)).Clear();
            return;
        }
        var src = job.Act + chunk * job.ActRowBytes;
        if (ActivationQuant.VecDotType(job.Type) == GgmlType.Q8_0) PackQ8_0Activations(src, dst, job.InFeatures);
        else PackQ8_KActivations(src, dst, job.InFeatures, Steps(job.Type));
    }

    private static void PackQ8_0Activations(byte* src, byte* dst, int n)
    {
        var blocks = n / 32;
        for (var g = 0; g < Groups(GgmlType.Q8_0, n); g++, dst += 32 * 8 + 96)
        {
            var scales = (float*)(dst + 256);
            var sums = (int*)(dst + 288);
            for (var l = 0; l < 8; l++)
            {
                var b = 8 * g + l;
                if (b >= blocks)
                {
                    for (var j = 0; j < 8; j++) ((int*)dst)[8 * j + l] = 0;
                    scales[l] = 0;
                    sums[l] = 0;
                    continue;
                }
                var block = src + b * ActivationQuant.Q8_0BlockBytes;
                var codes = (sbyte*)(block + 2);
                for (var j = 0; j < 8; j++) ((int*)dst)[8 * j + l] = ((int*)codes)[j];
                scales[l] = Half16.ToFloat(*(ushort*)block);
                var s = 0;
                for (var i = 0; i < 32; i++) s += codes[i];
                sums[l] = s;
            }
        }
    }

    // Q8_K: f32 d, 256 codes, 16 group sums of 16. Lane l covers 4·steps consecutive codes.
    private static void PackQ8_KActivations(byte* src, byte* dst, int n, int steps)
    {
        var laneElements = 4 * steps;
        var groupBytes = 32 * steps + 96;
        for (var b = 0; b < n / 256; b++)
        {
            var block = src + b * ActivationQuant.Q8_KBlockBytes;
            var codes = block + 4;
            var bsums = (short*)(block + 4 + 256);
            for (var half = 0; half < 256 / (8 * laneElements); half++, dst += groupBytes)
            {
                var scales = (float*)(dst + 32 * steps);
                var sums = (int*)(dst + 32 * steps + 32);
                var first = half * 8 * laneElements;
                for (var l = 0; l < 8; l++)
                {
                    var lane = codes + first + l * laneElements;
                    for (var j = 0; j < steps; j++) ((int*)dst)[8 * j + l] = ((int*)lane)[j];
                    scales[l] = *(float*)block;
                    var g16 = (first + l * laneElements) / 16;
                    sums[l] = laneElements == 32 ? bsums[g16] + bsums[g16 + 1] : bsums[g16];
                }
            }
        }
    }

    /// <summary>Packs weight rows [from, to) into lane groups at <paramref name="dst"/> (rows beyond the matrix are zero).</summary>
    private static void PackWeights(ref Job job, int from, int to, byte* dst)
    {
        var rowBytes = PackedRowBytes(job.Type, job.InFeatures);
        for (var o = from; o < to; o++, dst += rowBytes)
        {
            if (o >= job.OutFeatures)
            {
                new Span<byte>(dst, checked((int)rowBytes)).Clear();
                continue;
            }
            var w = job.Weight + o * job.WeightRowBytes;
            switch (job.Type)
            {
                case GgmlType.Q8_0: PackType0(w, dst, job.InFeatures, 34, &CodesQ8_0); break;
                case GgmlType.Q4_0: PackType0(w, dst, job.InFeatures, 18, &CodesQ4_0); break;
                case GgmlType.Q5_0: PackType0(w, dst, job.InFeatures, 22, &CodesQ5_0); break;
                case GgmlType.Q4_K: PackQ4K(w, dst, job.InFeatures, fiveBit: false); break;
                case GgmlType.Q5_K: PackQ4K(w, dst, job.InFeatures, fiveBit: true); break;
                case GgmlType.Q6_K: PackQ6K(w, dst, job.InFeatures); break;
                default: throw new NotSupportedException(GgmlTypeInfo.Name(job.Type));
            }
        }
    }

    // Unsigned codes of one 32-block into codes[32].
    private static void CodesQ8_0(byte* block, byte* codes)
    {
        for (var i = 0; i < 32; i++) codes[i] = (byte)(block[2 + i] ^ 0x80);
    }

    private static void CodesQ4_0(byte* block, byte* codes)
    {
        for (var i = 0; i < 16; i++)
        {
            codes[i] = (byte)(block[2 + i] & 0x0F);
            codes[i + 16] = (byte)(block[2 + i] >> 4);
        }
    }

    private static void CodesQ5_0(byte* block, byte* codes)
    {
        var qh = *(uint*)(block + 2);
        for (var i = 0; i < 16; i++)
        {
            codes[i] = (byte)((uint)(block[6 + i] & 0x0F) | (((qh >> i) & 1) << 4));
            codes[i + 16] = (byte)((uint)(block[6 + i] >> 4) | (((qh >> (i + 16)) & 1) << 4));
        }
    }

    private static void PackType0(byte* w, byte* dst, int n, int blockBytes, delegate*<byte*, byte*, void> codesOf)
    {
        var blocks = n / 32;
        var codes = stackalloc byte[32];
        for (var g = 0; g < Groups(GgmlType.Q8_0, n); g++, dst += 32 * 8 + 96)
        {
            var scales = (float*)(dst + 256);
            for (var l = 0; l < 8; l++)
            {
                var b = 8 * g + l;
                if (b >= blocks)
                {
                    for (var j = 0; j < 8; j++) ((int*)dst)[8 * j + l] = 0;
                    scales[l] = 0;
                    continue;
                }
                var block = w + b * blockBytes;
                codesOf(block, codes);
                for (var j = 0; j < 8; j++) ((int*)dst)[8 * j + l] = ((int*)codes)[j];
                scales[l] = Half16.ToFloat(*(ushort*)block);
            }
            new Span<byte>(dst + 288, 64).Clear();
        }
    }

    // block_q4_K: d dmin scales(12) qs(128); block_q5_K: d dmin scales(12) qh(32) qs(128). Sub-block 2c is the low
    // nibbles of qs[32c..32c+31], 2c+1 the high nibbles; Q5_K's fifth bits are bits 2c and 2c+1 of qh[i].
    private static void PackQ4K(byte* w, byte* dst, int n, bool fiveBit)
    {
        var blockBytes = fiveBit ? 176 : 144;
        var codes = stackalloc byte[32];
        for (var b = 0; b < n / 256; b++, w += blockBytes, dst += 32 * 8 + 96)
        {
            var qh = w + 16;
            var qs = fiveBit ? w + 48 : w + 16;
            var scales = (int*)(dst + 256);
            var mins = (int*)(dst + 288);
            ((float*)(dst + 320))[0] = Half16.ToFloat(*(ushort*)w);
            ((float*)(dst + 320))[1] = Half16.ToFloat(*(ushort*)(w + 2));
            for (var s = 0; s < 8; s++)
            {
                var c = s / 2;
                var shift = (s & 1) * 4;
                for (var i = 0; i < 32; i++)
                {
                    var code = (qs[32 * c + i] >> shift) & 0x0F;
                    if (fiveBit) code |= ((qh[i] >> s) & 1) << 4;
                    codes[i] = (byte)code;
                }
                for (var j = 0; j < 8; j++) ((int*)dst)[8 * j + s] = ((int*)codes)[j];
                ScaleMinK4(s, w + 4, out scales[s], out mins[s]);
            }
        }
    }

    // ggml-quants.c get_scale_min_k4: eight 6-bit scales and mins packed in 12 bytes.
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

    // block_q6_K: ql(128) qh(64) scales(16, int8) d. In half h, elements 0..31 are ql[64h+i] low | qh bits 0-1,
    // 32..63 ql[64h+32+i] low | bits 2-3, 64..95 ql[64h+i] high | bits 4-5, 96..127 ql[64h+32+i] high | bits 6-7;
    // element e of the half has scale sc[8h + e/16]. A group is one half: 8 lanes of 16.
    private static void PackQ6K(byte* w, byte* dst, int n)
    {
        var codes = stackalloc byte[128];
        for (var b = 0; b < n / 256; b++, w += 210)
        {
            var d = Half16.ToFloat(*(ushort*)(w + 208));
            var sc = (sbyte*)(w + 192);
            for (var h = 0; h < 2; h++, dst += 32 * 4 + 96)
            {
                var ql = w + 64 * h;
                var qh = w + 128 + 32 * h;
                for (var i = 0; i < 32; i++)
                {
                    codes[i] = (byte)((ql[i] & 0x0F) | ((qh[i] & 3) << 4));
                    codes[32 + i] = (byte)((ql[32 + i] & 0x0F) | (((qh[i] >> 2) & 3) << 4));
                    codes[64 + i] = (byte)((ql[i] >> 4) | (((qh[i] >> 4) & 3) << 4));
                    codes[96 + i] = (byte)((ql[32 + i] >> 4) | (((qh[i] >> 6) & 3) << 4));
                }
                var scales = (int*)(dst + 128);
                for (var l = 0; l < 8; l++)
                {
                    for (var j = 0; j < 4; j++) ((int*)dst)[8 * j + l] = ((int*)(codes + 16 * l))[j];
                    scales[l] = sc[8 * h + l];
                }
                new Span<byte>(dst + 160, 32).Clear();
                ((float*)(dst + 192))[0] = d;
                ((float*)(dst + 192))[1] = 0f;
            }
        }
    }

    /// <summary>Weight rows chosen so a chunk's packed rows stay in L2, in whole tiles.</summary>
    public static int ChunkRowsFor(GgmlType type, int n, int outFeatures, int threads)
    {
        var byBytes = (int)Math.Max(TileRows, ChunkBytes / PackedRowBytes(type, n) / TileRows * TileRows);
        // At least two chunks per thread so a descheduled thread's share can be taken over.
        var byBalance = Math.Max(TileRows, (outFeatures / (2 * threads) + TileRows - 1) / TileRows * TileRows);
        return Math.Min(byBytes, byBalance);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunChunk(void* context, int chunk)
    {
        ref var job = ref *(Job*)context;
        var from = chunk * job.ChunkRows;
        var to = Math.Min(from + job.ChunkRows, (job.OutFeatures + TileRows - 1) / TileRows * TileRows);
        var rowBytes = PackedRowBytes(job.Type, job.InFeatures);
        var packed = ThreadBuffer((to - from) * rowBytes);
        PackWeights(ref job, from, to, packed);
        var steps = Steps(job.Type);
        var groups = Groups(job.Type, job.InFeatures);
        var shift = OffsetShift(job.Type);
        var kQuant = IsKQuant(job.Type);
        var mins = HasMins(job.Type);
        var perSuper = GroupsPerSuperBlock(job.Type);
        var paddedRows = (job.Rows + TileCols - 1) / TileCols * TileCols;
        for (var c0 = 0; c0 < paddedRows; c0 += ColumnBlock)
        {
            var c1 = Math.Min(paddedRows, c0 + ColumnBlock);
            for (var r = from; r < to; r += TileRows)
            {
                var w = packed + (r - from) * rowBytes;
                for (var c = c0; c < c1; c += TileCols)
                {
                    var a = job.Packed + c * rowBytes;
                    if (kQuant)
                    {
                        if (job.Vnni) TileK<VnniDot>(w, a, rowBytes, groups, steps, mins, perSuper, job.Output, job.OutFeatures, r, c, job.Rows);
                        else TileK<Avx2Dot>(w, a, rowBytes, groups, steps, mins, perSuper, job.Output, job.OutFeatures, r, c, job.Rows);
                    }
                    else if (job.Vnni) Tile<VnniDot>(w, a, rowBytes, groups, steps, shift, job.Output, job.OutFeatures, r, c, job.Rows);
                    else Tile<Avx2Dot>(w, a, rowBytes, groups, steps, shift, job.Output, job.OutFeatures, r, c, job.Rows);
                }
            }
        }
    }

    private interface IByteDot
    {
        static abstract Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s);
    }

    private readonly struct VnniDot : IByteDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
            AvxVnni.MultiplyWideningAndAdd(acc, u, s);
    }

    private readonly struct Avx2Dot : IByteDot
    {
        // Exact while u ≤ 63: two products of at most 63·128 fit a saturating int16.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
            acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256<short>.One);
    }

    /// <summary>
    /// One 4 × 4 tile: weight rows r..r+3 (packed at <paramref name="w"/>) against activation rows c..c+3 (packed at
    /// <paramref name="a"/>), both with row stride <paramref name="rowBytes"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TDot>(byte* w, byte* a, long rowBytes, int groups, int steps, int shift,
        float* output, int outFeatures, int r, int c, int rows) where TDot : struct, IByteDot
    {
        var acc = stackalloc Vector256<float>[16];
        for (var i = 0; i < 16; i++) acc[i] = Vector256<float>.Zero;
        var codeBytes = 32 * steps;
        var groupBytes = codeBytes + 96;
        byte* w0 = w, w1 = w + rowBytes, w2 = w + 2 * rowBytes, w3 = w + 3 * rowBytes;
        byte* a0 = a, a1 = a + rowBytes, a2 = a + 2 * rowBytes, a3 = a + 3 * rowBytes;
        for (var g = 0; g < groups; g++)
        {
            var go = g * groupBytes;
            // −offset·Σy per lane, exact in int32.
            var s0 = -Vector256.ShiftLeft(Vector256.Load((int*)(a0 + go + codeBytes + 32)), shift);
            var s1 = -Vector256.ShiftLeft(Vector256.Load((int*)(a1 + go + codeBytes + 32)), shift);
            var s2 = -Vector256.ShiftLeft(Vector256.Load((int*)(a2 + go + codeBytes + 32)), shift);
            var s3 = -Vector256.ShiftLeft(Vector256.Load((int*)(a3 + go + codeBytes + 32)), shift);
            Vector256<int> i00 = s0, i01 = s1, i02 = s2, i03 = s3;
            Vector256<int> i10 = s0, i11 = s1, i12 = s2, i13 = s3;
            Vector256<int> i20 = s0, i21 = s1, i22 = s2, i23 = s3;
            Vector256<int> i30 = s0, i31 = s1, i32 = s2, i33 = s3;
            for (var j = 0; j < codeBytes; j += 32)
            {
                var o = go + j;
                var y0 = Vector256.Load((sbyte*)(a0 + o));
                var y1 = Vector256.Load((sbyte*)(a1 + o));
                var y2 = Vector256.Load((sbyte*)(a2 + o));
                var y3 = Vector256.Load((sbyte*)(a3 + o));
                var u = Vector256.Load(w0 + o);
                i00 = TDot.Dot(i00, u, y0); i01 = TDot.Dot(i01, u, y1); i02 = TDot.Dot(i02, u, y2); i03 = TDot.Dot(i03, u, y3);
                u = Vector256.Load(w1 + o);
                i10 = TDot.Dot(i10, u, y0); i11 = TDot.Dot(i11, u, y1); i12 = TDot.Dot(i12, u, y2); i13 = TDot.Dot(i13, u, y3);
                u = Vector256.Load(w2 + o);
                i20 = TDot.Dot(i20, u, y0); i21 = TDot.Dot(i21, u, y1); i22 = TDot.Dot(i22, u, y2); i23 = TDot.Dot(i23, u, y3);
                u = Vector256.Load(w3 + o);
                i30 = TDot.Dot(i30, u, y0); i31 = TDot.Dot(i31, u, y1); i32 = TDot.Dot(i32, u, y2); i33 = TDot.Dot(i33, u, y3);
            }
            var so = go + codeBytes;
            var da0 = Vector256.Load((float*)(a0 + so));
            var da1 = Vector256.Load((float*)(a1 + so));
            var da2 = Vector256.Load((float*)(a2 + so));
            var da3 = Vector256.Load((float*)(a3 + so));
            FoldRow(acc, w0 + so, i00, i01, i02, i03, da0, da1, da2, da3);
            FoldRow(acc + 4, w1 + so, i10, i11, i12, i13, da0, da1, da2, da3);
            FoldRow(acc + 8, w2 + so, i20, i21, i22, i23, da0, da1, da2, da3);
            FoldRow(acc + 12, w3 + so, i30, i31, i32, i33, da0, da1, da2, da3);
        }
        for (var tr = 0; tr < TileRows; tr++)
        {
            if (r + tr >= outFeatures) break;
            for (var tc = 0; tc < TileCols; tc++)
            {
                if (c + tc >= rows) break;
                output[(long)(c + tc) * outFeatures + r + tr] = Vector256.Sum(acc[tr * 4 + tc]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FoldRow(Vector256<float>* acc, byte* scales, Vector256<int> i0, Vector256<int> i1, Vector256<int> i2,
        Vector256<int> i3, Vector256<float> da0, Vector256<float> da1, Vector256<float> da2, Vector256<float> da3)
    {
        var dw = Vector256.Load((float*)scales);
        acc[0] = Fma.MultiplyAdd(Vector256.ConvertToSingle(i0) * dw, da0, acc[0]);
        acc[1] = Fma.MultiplyAdd(Vector256.ConvertToSingle(i1) * dw, da1, acc[1]);
        acc[2] = Fma.MultiplyAdd(Vector256.ConvertToSingle(i2) * dw, da2, acc[2]);
        acc[3] = Fma.MultiplyAdd(Vector256.ConvertToSingle(i3) * dw, da3, acc[3]);
    }

    /// <summary>
    /// One 4 × 4 tile of a K-quant, bit-identical to the reference: per super-block and pair, Σ scale·dot and
    /// Σ min·Σy are exact int32 sums (their order is free), and then sum += d·d8·Σscale·dot − dmin·d8·Σmin·Σy in the
    /// reference's float order, super-block after super-block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileK<TDot>(byte* w, byte* a, long rowBytes, int groups, int steps, bool mins, int perSuper,
        float* output, int outFeatures, int r, int c, int rows) where TDot : struct, IByteDot
    {
        var sums = stackalloc float[16];
        var scaled = stackalloc int[16];
        var minSums = stackalloc int[16];
        for (var i = 0; i < 16; i++) { sums[i] = 0; scaled[i] = 0; minSums[i] = 0; }
        var codeBytes = 32 * steps;
        var groupBytes = codeBytes + 96;
        var wr = stackalloc byte*[4];
        var ac = stackalloc byte*[4];
        for (var i = 0; i < 4; i++) { wr[i] = w + i * rowBytes; ac[i] = a + i * rowBytes; }
        // Q6_K's codes carry +32: its −32·Σy comes back per lane, exact, before the scales multiply.
        var shift = mins ? -1 : 5;
        for (var g = 0; g < groups; g++)
        {
            var go = g * groupBytes;
            Vector256<int> s0, s1, s2, s3;
            if (shift < 0)
            {
                s0 = s1 = s2 = s3 = Vector256<int>.Zero;
            }
            else
            {
                s0 = -Vector256.ShiftLeft(Vector256.Load((int*)(ac[0] + go + codeBytes + 32)), shift);
                s1 = -Vector256.ShiftLeft(Vector256.Load((int*)(ac[1] + go + codeBytes + 32)), shift);
                s2 = -Vector256.ShiftLeft(Vector256.Load((int*)(ac[2] + go + codeBytes + 32)), shift);
                s3 = -Vector256.ShiftLeft(Vector256.Load((int*)(ac[3] + go + codeBytes + 32)), shift);
            }
            Vector256<int> i00 = s0, i01 = s1, i02 = s2, i03 = s3;
            Vector256<int> i10 = s0, i11 = s1, i12 = s2, i13 = s3;
            Vector256<int> i20 = s0, i21 = s1, i22 = s2, i23 = s3;
            Vector256<int> i30 = s0, i31 = s1, i32 = s2, i33 = s3;
            for (var j = 0; j < codeBytes; j += 32)
            {
                var o = go + j;
                var y0 = Vector256.Load((sbyte*)(ac[0] + o));
                var y1 = Vector256.Load((sbyte*)(ac[1] + o));
                var y2 = Vector256.Load((sbyte*)(ac[2] + o));
                var y3 = Vector256.Load((sbyte*)(ac[3] + o));
                var u = Vector256.Load(wr[0] + o);
                i00 = TDot.Dot(i00, u, y0); i01 = TDot.Dot(i01, u, y1); i02 = TDot.Dot(i02, u, y2); i03 = TDot.Dot(i03, u, y3);
                u = Vector256.Load(wr[1] + o);
                i10 = TDot.Dot(i10, u, y0); i11 = TDot.Dot(i11, u, y1); i12 = TDot.Dot(i12, u, y2); i13 = TDot.Dot(i13, u, y3);
                u = Vector256.Load(wr[2] + o);
                i20 = TDot.Dot(i20, u, y0); i21 = TDot.Dot(i21, u, y1); i22 = TDot.Dot(i22, u, y2); i23 = TDot.Dot(i23, u, y3);
                u = Vector256.Load(wr[3] + o);
                i30 = TDot.Dot(i30, u, y0); i31 = TDot.Dot(i31, u, y1); i32 = TDot.Dot(i32, u, y2); i33 = TDot.Dot(i33, u, y3);
            }
            var so = go + codeBytes;
            ScaleRow(scaled, (int*)(wr[0] + so), i00, i01, i02, i03);
            ScaleRow(scaled + 4, (int*)(wr[1] + so), i10, i11, i12, i13);
            ScaleRow(scaled + 8, (int*)(wr[2] + so), i20, i21, i22, i23);
            ScaleRow(scaled + 12, (int*)(wr[3] + so), i30, i31, i32, i33);
            if (mins)
            {
                for (var tr = 0; tr < 4; tr++)
                {
                    var m = Vector256.Load((int*)(wr[tr] + so + 32));
                    for (var tc = 0; tc < 4; tc++) minSums[tr * 4 + tc] += Vector256.Sum(m * Vector256.Load((int*)(ac[tc] + so + 32)));
                }
            }
            if (g % perSuper == perSuper - 1)
            {
                for (var tr = 0; tr < 4; tr++)
                {
                    var d = ((float*)(wr[tr] + so + 64))[0];
                    var dmin = ((float*)(wr[tr] + so + 64))[1];
                    for (var tc = 0; tc < 4; tc++)
                    {
                        var d8 = *(float*)(ac[tc] + so);
                        var p = tr * 4 + tc;
                        sums[p] += d * d8 * scaled[p] - dmin * d8 * minSums[p];
                        scaled[p] = 0;
                        minSums[p] = 0;
                    }
                }
            }
        }
        for (var tr = 0; tr < TileRows; tr++)
        {
            if (r + tr >= outFeatures) break;
            for (var tc = 0; tc < TileCols; tc++)
            {
                if (c + tc >= rows) break;
                output[(long)(c + tc) * outFeatures + r + tr] = sums[tr * 4 + tc];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScaleRow(int* scaled, int* scales, Vector256<int> i0, Vector256<int> i1, Vector256<int> i2, Vector256<int> i3)
    {
        var sc = Vector256.Load(scales);
        scaled[0] += Vector256.Sum(i0 * sc);
        scaled[1] += Vector256.Sum(i1 * sc);
        scaled[2] += Vector256.Sum(i2 * sc);
        scaled[3] += Vector256.Sum(i3 * sc);
    }
}
