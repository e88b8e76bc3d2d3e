using Flywheel.Kernels.Cpu;
using static Flywheel.Kernels.Cpu.X64Assembler;

namespace Flywheel.Kernels.Tests.Cpu;

public class X64AssemblerTests
{
    /// <summary>
    /// Every instruction form the VNNI kernels use, with high and low registers, against the bytes GNU as 2.40 gives
    /// for the same Intel-syntax lines with the {disp32} pseudo-prefix (the assembler always writes disp32).
    /// </summary>
    [Fact]
    public void Encodings_match_a_reference_assembler()
    {
        var a = new X64Assembler();
        a.Vpdpbusd(8, 17, Dword(Rdx, 0x104));          // vpdpbusd zmm8, zmm17, dword ptr [rdx + 0x104]{1to16}
        a.Vpdpbusd(15, 18, Dword(Rdx, 0x7fc));
        a.Vpdpbusd(23, 1, 30);                          // vpdpbusd zmm23, zmm1, zmm30
        a.Vmovdqu32(19, At(Rdi, 0xc0));
        a.Vmovups(At(X64Assembler.R8, 0x40), 7);
        a.Vmovups(At(Rax, 0x1c0), 15);
        a.Vpandd(17, 19, 16);
        a.Vpxord(3, 3, 3);
        a.Vpxord(24, 24, 24);
        a.Vpsrlw(18, 19, 4);
        a.Vpbroadcastd(9, At(Rdx, 0x120));
        a.VpbroadcastdFromGeneral(16, Rax);
        a.Vcvtph2ps(20, At(Rsi));
        a.Vcvtdq2ps(21, 9);
        a.Vmulps(22, 20, Dword(Rdx, 0x104));
        a.Vmulps(21, 21, 22);
        a.Vaddps(5, 5, 21);
        a.MovImmediate32(Rax, 0x0f0f0f0f);
        a.MovImmediate32(R9, 0x01020304);
        a.AddImmediate(Rdi, 256);
        a.AddImmediate(Rdx, 320);
        a.AddImmediate(R9, 0x1000);
        a.Decrement(Rcx);
        a.Decrement(R10);
        a.Prefetch(At(Rdi, 0x4000), 1);                 // prefetcht0
        a.Prefetch(At(Rsi, 0x800), 2);                  // prefetcht1
        a.Prefetch(At(R9, 0x10), 1);
        a.Vpaddd(8, 8, 24);
        a.Vpaddd(31, 0, 17);
        a.Vzeroupper();
        a.Return();
        const string expected =
            "62 72 75 50 50 82 04 01 00 00 62 72 6d 50 50 ba fc 07 00 00 62 82 75 48 50 fe 62 e1 7e 48 6f 9f c0 00 00 00 " +
            "62 d1 7c 48 11 b8 40 00 00 00 62 71 7c 48 11 b8 c0 01 00 00 62 a1 65 40 db c8 62 f1 65 48 ef db 62 01 3d 40 " +
            "ef c0 62 b1 6d 40 71 d3 04 62 72 7d 48 58 8a 20 01 00 00 62 e2 7d 48 7c c0 62 e2 7d 48 13 a6 00 00 00 00 62 " +
            "c1 7c 48 5b e9 62 e1 5c 50 59 b2 04 01 00 00 62 a1 54 40 59 ee 62 b1 54 48 58 ed b8 0f 0f 0f 0f 41 b9 04 03 " +
            "02 01 48 81 c7 00 01 00 00 48 81 c2 40 01 00 00 49 81 c1 00 10 00 00 48 ff c9 49 ff ca 0f 18 8f 00 40 00 00 " +
            "0f 18 96 00 08 00 00 41 0f 18 89 10 00 00 00 62 11 3d 48 fe c0 62 21 7d 48 fe f9 c5 f8 77 c3";
        Assert.Equal(expected, string.Join(' ', a.ToArray().Select(b => b.ToString("x2"))));
    }

    [Fact]
    public void A_backward_jump_lands_on_its_label()
    {
        var a = new X64Assembler();
        a.Label(0);
        a.Decrement(Rcx);                               // 3 bytes
        a.JumpIfNotZero(0);                             // 0f 85 rel32, rel = 0 - 9
        Assert.Equal("48 ff c9 0f 85 f7 ff ff ff", string.Join(' ', a.ToArray().Select(b => b.ToString("x2"))));
    }
}
