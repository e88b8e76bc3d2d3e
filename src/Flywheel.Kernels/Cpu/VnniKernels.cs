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
    private static readonly nint[]? Kernels = TryBuild();

    /// <summary>
    /// True on Linux x64 when the CPU reports AVX512-VNNI (CPUID.7.0:ECX bit 11), the OS runs AVX-512, and the kernels
    /// could be mapped executable (a host that forbids it just gets the C# kernels).
    /// </summary>
    public static bool IsSupported => Kernels is not null;

    /// <summary>The Q4_0 kernel for a tile of <paramref name="rows"/> (1-8) activation rows.</summary>
    public static delegate* unmanaged[SuppressGCTransition]<byte*, ushort*, byte*, long, float*, void> Q4_0(int rows) =>
        (delegate* unmanaged[SuppressGCTransition]<byte*, ushort*, byte*, long, float*, void>)Kernels![rows - 1];

    /// <summary>The Q8_0 kernel (weights in <see cref="PackedMatMul512.VnniQ8_0Layout"/>) for 1-8 activation rows.</summary>
    public static delegate* unmanaged[SuppressGCTransition]<byte*, ushort*, byte*, long, float*, void> Q8_0(int rows) =>
        (delegate* unmanaged[SuppressGCTransition]<byte*, ushort*, byte*, long, float*, void>)Kernels![PackedMatMul512.TileRows + rows - 1];

    private static bool CpuHasVnni()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return false;
        if (!CpuKernels.Avx512Supported) return false;
        var (_, _, ecx, _) = X86Base.CpuId(7, 0);
        return (ecx & (1 << 11)) != 0;
    }

    /// <summary>Q4_0's eight row-count variants then Q8_0's, in one run of executable pages; null without VNNI.</summary>
    private static nint[]? TryBuild()
    {
        if (!CpuHasVnni()) return null;
        var code = new List<byte>();
        var starts = new List<int>();
        foreach (var emit in new Action<X64Assembler, int>[] { EmitQ4_0, EmitQ8_0 })
        {
            for (var rows = 1; rows <= PackedMatMul512.TileRows; rows++)
            {
                while (code.Count % 64 != 0) code.Add(0xCC);   // each kernel on its own cache line (int3 between)
                starts.Add(code.Count);
                var a = new X64Assembler();
                emit(a, rows);
                code.AddRange(a.ToArray());
            }
        }
        byte* pages;
        try
        {
            pages = ExecutableMemory.Load(code.ToArray());
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
        {
            return null;    // mmap or mprotect refused (a W^X policy, a locked-down container), or no libc to ask
        }
        return starts.Select(s => (nint)(pages + s)).ToArray();
    }

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
        for (var r = 0; r < rows; r++) a.Vpxord(r, r, r);
        a.MovImmediate32(Rax, 0x0F0F0F0F);
        a.VpbroadcastdFromGeneral(16, Rax);
        // Below five rows the high nibbles go into zmm24 + r (see StartBlock).
        var split = StartBlock(a, rows, codeBytes: 256);
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
        EndBlock(a, rows, split, codeBytes: 256);
    }

    /// <summary>
    /// Q8_0: per block, eight 64-byte vectors of codes + 128 (step j: elements 4j..4j+3 of each row); the tile block
    /// holds the rows' 32 codes at 32·r, their float scales at 256 + 4·r and −128·Σy at 288 + 4·r.
    /// </summary>
    private static void EmitQ8_0(X64Assembler a, int rows)
    {
        for (var r = 0; r < rows; r++) a.Vpxord(r, r, r);
        // Below five rows the even steps go into zmm24 + r (see StartBlock).
        var split = StartBlock(a, rows, codeBytes: 512);
        for (var k = 0; k < 8; k++)
        {
            a.Vmovdqu32(19, At(Codes, 64 * k));
            for (var r = 0; r < rows; r++) a.Vpdpbusd(split && k % 2 == 0 ? 24 + r : 8 + r, 19, Dword(Tile, 32 * r + 4 * k));
        }
        EndBlock(a, rows, split, codeBytes: 512);
    }

    private const int Loop = 0;

    /// <summary>
    /// The start of a block, the same for every type: the loop's label, the prefetches of the codes and scales
    /// <see cref="PackedMatMul512.PrefetchDistance"/> ahead, the sixteen weight scales as floats (zmm20), and each row's
    /// int32 sum starting from its offset (−offset·Σy). Up to four rows a chain of eight vpdpbusd into one register
    /// would bound the loop by latency rather than throughput, so half of each row's steps go into a second register,
    /// zmm24 + r, zeroed here; returns whether it does.
    /// </summary>
    private static bool StartBlock(X64Assembler a, int rows, int codeBytes)
    {
        a.Label(Loop);
        for (var k = 0; k < codeBytes / 64; k++) a.Prefetch(At(Codes, PackedMatMul512.PrefetchDistance + 64 * k), L2Hint);
        a.Prefetch(At(Scales, PackedMatMul512.PrefetchDistance / (codeBytes / 32)), L2Hint);
        a.Vcvtph2ps(20, At(Scales));
        for (var r = 0; r < rows; r++) a.Vpbroadcastd(8 + r, At(Tile, PackedMatMul512.TileRows * 36 + 4 * r));
        var split = rows <= 4;
        for (var r = 0; r < rows && split; r++) a.Vpxord(24 + r, 24 + r, 24 + r);
        return split;
    }

    /// <summary>
    /// The end of a block and of the kernel, the same for every type: each row's float sum takes the block as
    /// sum += (float)sumi · (d_w · d_y), a separate multiply and add as the reference; the pointers step to the next
    /// block; after the last, the sums go out.
    /// </summary>
    private static void EndBlock(X64Assembler a, int rows, bool split, int codeBytes)
    {
        for (var r = 0; r < rows; r++)
        {
            if (split) a.Vpaddd(8 + r, 8 + r, 24 + r);
            a.Vcvtdq2ps(21, 8 + r);
            a.Vmulps(22, 20, Dword(Tile, PackedMatMul512.TileRows * 32 + 4 * r));
            a.Vmulps(21, 21, 22);
            a.Vaddps(r, r, 21);
        }
        a.AddImmediate(Codes, codeBytes);
        a.AddImmediate(Scales, 32);
        a.AddImmediate(Tile, PackedMatMul512.TileBlockBytes);
        a.Decrement(Blocks);
        a.JumpIfNotZero(Loop);
        for (var r = 0; r < rows; r++) a.Vmovups(At(Sums, 64 * r), r);
        a.Vzeroupper();
        a.Return();
    }
}
