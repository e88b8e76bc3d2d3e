using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using static Flywheel.Kernels.Cpu.X64Assembler;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// The tile kernels of <see cref="PackedMatMul512"/> with AVX512-VNNI's vpdpbusd, written as machine code once per
/// process by <see cref="X64Assembler"/>. Same layout, same arithmetic, same results as the C# tile kernels: vpdpbusd
/// adds four u8 × s8 products into an int32 lane, exactly, in one instruction, where the C# kernels need vpmaddubsw, a
/// vpaddw per step and a widening vpmaddwd per block. The float epilogue is the C# kernels' (separate multiply and
/// add, block after block), so the output is bit-identical to <see cref="Reference.ReferenceKernels"/>.
/// <para>
/// Why machine code: .NET 10 exposes vpdpbusd only through AvxVnni (VEX) and Avx10v1, and an AVX-512 CPU without
/// those (Zen 4) has no way to reach it from C#. DESIGN.md chose vpdpbusd for the int8 dot products.
/// </para>
/// <para>
/// A kernel is <c>void (byte* codes, ushort* scales, byte* tile, long blocks, float* sums)</c> (System V: rdi, rsi,
/// rdx, rcx, r8): the group's packed codes and binary16 scales, the activation tile's first block, the 32-blocks to
/// run, and where to write the 16 output rows' sums for each activation row (rows × 16 floats). It uses only
/// registers the System V ABI lets a callee clobber, and no stack.
/// </para>
/// </summary>
internal static unsafe class VnniKernels
{
    /// <summary>True on Linux x64 when the CPU reports AVX512-VNNI (CPUID.7.0:ECX bit 11) and the OS runs AVX-512.</summary>
    public static bool IsSupported { get; } = Detect();

    private static readonly Lazy<nint[]> Q4_0Kernels = new(() => Build(EmitQ4_0));
    private static readonly Lazy<nint[]> Q8_0Kernels = new(() => Build(EmitQ8_0));

    /// <summary>The Q4_0 kernel for a tile of <paramref name="rows"/> (1-8) activation rows.</summary>
    public static delegate* unmanaged[SuppressGCTransition]<byte*, ushort*, byte*, long, float*, void> Q4_0(int rows) =>
        (delegate* unmanaged[SuppressGCTransition]<byte*, ushort*, byte*, long, float*, void>)Q4_0Kernels.Value[rows - 1];

    /// <summary>The Q8_0 kernel (weights in <see cref="PackedMatMul512.VnniQ8_0Layout"/>) for 1-8 activation rows.</summary>
    public static delegate* unmanaged[SuppressGCTransition]<byte*, ushort*, byte*, long, float*, void> Q8_0(int rows) =>
        (delegate* unmanaged[SuppressGCTransition]<byte*, ushort*, byte*, long, float*, void>)Q8_0Kernels.Value[rows - 1];

    private static bool Detect()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return false;
        if (!CpuKernels.Avx512Supported) return false;
        var (_, _, ecx, _) = X86Base.CpuId(7, 0);
        return (ecx & (1 << 11)) != 0;
    }

    /// <summary>Writes the eight row-count variants into one run of executable pages.</summary>
    private static nint[] Build(Action<X64Assembler, int> emit)
    {
        var code = new List<byte>();
        var starts = new int[PackedMatMul512.TileRows];
        for (var rows = 1; rows <= PackedMatMul512.TileRows; rows++)
        {
            while (code.Count % 64 != 0) code.Add(0xCC);   // each kernel on its own cache line (int3 between)
            starts[rows - 1] = code.Count;
            var a = new X64Assembler();
            emit(a, rows);
            code.AddRange(a.ToArray());
        }
        var pages = ExecutableMemory.Load(code.ToArray());
        return starts.Select(s => (nint)(pages + s)).ToArray();
    }

    // Registers: zmm0-7 the rows' float sums, zmm8-15 their int32 block sums (and zmm24-27 the high nibbles' below five rows), zmm16 the nibble mask, zmm17/18 low and
    // high nibbles, zmm19 the loaded codes, zmm20 the weight scales, zmm21/22 the epilogue's products.
    /// <summary>
    /// prefetcht1 (into L2) at every row count. The C# tiles switch to L1 from six rows, where they compute long
    /// enough per line; these finish a line sooner, and the stream needs more lines in flight than L1's miss buffers
    /// hold: the 896 × 151936 Q8_0 projection at eight rows took 4.3-4.6 ms with the L2 hint, 6.0-7.4 ms with L1.
    /// </summary>
    private const int L2Hint = 2;

    private const int Codes = Rdi, Scales = Rsi, Tile = Rdx, Blocks = Rcx, Sums = X64Assembler.R8;

    /// <summary>
    /// Q4_0: per block, four 64-byte code vectors (low nibbles step k, high nibbles step k + 4); the tile block holds
    /// the rows' 32 codes at 32·r, their float scales at 256 + 4·r and −8·Σy at 288 + 4·r (PackedMatMul512's layout).
    /// </summary>
    private static void EmitQ4_0(X64Assembler a, int rows)
    {
        const int tileBlock = PackedMatMul512.TileRows * 40;
        for (var r = 0; r < rows; r++) a.Vpxord(r, r, r);
        a.MovImmediate32(Rax, 0x0F0F0F0F);
        a.VpbroadcastdFromGeneral(16, Rax);
        const int loop = 0;
        a.Label(loop);
        for (var k = 0; k < 4; k++) a.Prefetch(At(Codes, PackedMatMul512.PrefetchDistance + 64 * k), L2Hint);
        a.Prefetch(At(Scales, PackedMatMul512.PrefetchDistance / 8), L2Hint);
        a.Vcvtph2ps(20, At(Scales));
        for (var r = 0; r < rows; r++) a.Vpbroadcastd(8 + r, At(Tile, 288 + 4 * r));     // start from −8·Σy
        // Up to four rows the chain of eight vpdpbusd into one register would bound the loop (latency, not throughput):
        // the high nibbles then go into a second register, zmm24 + r, added before the epilogue.
        var split = rows <= 4;
        for (var r = 0; r < rows && split; r++) a.Vpxord(24 + r, 24 + r, 24 + r);
        for (var k = 0; k < 4; k++)
        {
            a.Vmovdqu32(19, At(Codes, 64 * k));
            a.Vpandd(17, 19, 16);
            a.Vpsrlw(18, 19, 4);
            a.Vpandd(18, 18, 16);
            for (var r = 0; r < rows; r++)
            {
                a.Vpdpbusd(8 + r, 17, Dword(Tile, 32 * r + 4 * k));
                a.Vpdpbusd(split ? 24 + r : 8 + r, 18, Dword(Tile, 32 * r + 16 + 4 * k));
            }
        }
        for (var r = 0; r < rows; r++)
        {
            if (split) a.Vpaddd(8 + r, 8 + r, 24 + r);
            // sum += (float)sumi · (d_w · d_y), a separate multiply and add as the reference.
            a.Vcvtdq2ps(21, 8 + r);
            a.Vmulps(22, 20, Dword(Tile, 256 + 4 * r));
            a.Vmulps(21, 21, 22);
            a.Vaddps(r, r, 21);
        }
        a.AddImmediate(Codes, 256);
        a.AddImmediate(Scales, 32);
        a.AddImmediate(Tile, tileBlock);
        a.Decrement(Blocks);
        a.JumpIfNotZero(loop);
        for (var r = 0; r < rows; r++) a.Vmovups(At(Sums, 64 * r), r);
        a.Vzeroupper();
        a.Return();
    }
    /// <summary>
    /// Q8_0: per block, eight 64-byte vectors of codes + 128 (step j: elements 4j..4j+3 of each row); the tile block
    /// holds the rows' 32 codes at 32·r, their float scales at 256 + 4·r and −128·Σy at 288 + 4·r.
    /// </summary>
    private static void EmitQ8_0(X64Assembler a, int rows)
    {
        const int tileBlock = PackedMatMul512.TileRows * 40;
        for (var r = 0; r < rows; r++) a.Vpxord(r, r, r);
        const int loop = 0;
        a.Label(loop);
        for (var k = 0; k < 8; k++) a.Prefetch(At(Codes, PackedMatMul512.PrefetchDistance + 64 * k), L2Hint);
        a.Prefetch(At(Scales, PackedMatMul512.PrefetchDistance / 16), L2Hint);
        a.Vcvtph2ps(20, At(Scales));
        for (var r = 0; r < rows; r++) a.Vpbroadcastd(8 + r, At(Tile, 288 + 4 * r));     // start from −128·Σy
        // Below five rows the even steps go into zmm24 + r, so two chains of four share the latency.
        var split = rows <= 4;
        for (var r = 0; r < rows && split; r++) a.Vpxord(24 + r, 24 + r, 24 + r);
        for (var k = 0; k < 8; k++)
        {
            a.Vmovdqu32(19, At(Codes, 64 * k));
            for (var r = 0; r < rows; r++) a.Vpdpbusd(split && k % 2 == 0 ? 24 + r : 8 + r, 19, Dword(Tile, 32 * r + 4 * k));
        }
        for (var r = 0; r < rows; r++)
        {
            if (split) a.Vpaddd(8 + r, 8 + r, 24 + r);
            a.Vcvtdq2ps(21, 8 + r);
            a.Vmulps(22, 20, Dword(Tile, 256 + 4 * r));
            a.Vmulps(21, 21, 22);
            a.Vaddps(r, r, 21);
        }
        a.AddImmediate(Codes, 512);
        a.AddImmediate(Scales, 32);
        a.AddImmediate(Tile, tileBlock);
        a.Decrement(Blocks);
        a.JumpIfNotZero(loop);
        for (var r = 0; r < rows; r++) a.Vmovups(At(Sums, 64 * r), r);
        a.Vzeroupper();
        a.Return();
    }
}
