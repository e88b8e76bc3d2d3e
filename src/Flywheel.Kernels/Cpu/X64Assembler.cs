namespace Flywheel.Kernels.Cpu;

/// <summary>
/// Just enough of an x86-64 encoder to write the VNNI tile kernels (<see cref="VnniKernels"/>): the AVX-512 forms
/// they use, on zmm registers, with memory operands [base + disp32] and optional 32-bit broadcast, plus the few general
/// instructions of a counted loop. Encodings follow the Intel SDM, volume 2 (2.7, "EVEX encoding"), and each one is
/// checked against a reference assembler's bytes in <c>X64AssemblerTests</c>.
/// Why it exists: .NET 10 exposes vpdpbusd only as AVX-VNNI (VEX, 256-bit) and AVX10, which AVX512-VNNI CPUs such as
/// Zen 4 do not report, so the JIT can never emit it there.
/// </summary>
internal sealed class X64Assembler
{
    private readonly List<byte> _code = [];
    private readonly Dictionary<int, int> _labels = [];
    private readonly List<(int At, int Label)> _fixups = [];

    public int Length => _code.Count;

    /// <summary>General registers by their encoding number.</summary>
    public const int Rax = 0, Rcx = 1, Rdx = 2, Rbx = 3, Rsp = 4, Rbp = 5, Rsi = 6, Rdi = 7, R8 = 8, R9 = 9, R10 = 10, R11 = 11;

    /// <summary>A memory operand [base + displacement], optionally broadcasting one dword to all lanes.</summary>
    public readonly record struct Mem(int Base, int Displacement, bool Broadcast = false);

    public static Mem At(int baseRegister, int displacement = 0) => new(baseRegister, displacement);

    public static Mem Dword(int baseRegister, int displacement = 0) => new(baseRegister, displacement, true);

    // ---- AVX-512 (512-bit, no masking) ----

    /// <summary>vpdpbusd zmm(acc), zmm(unsigned), m32bcst or zmm(signed): acc += Σ of 4 u8 × s8 products per dword.</summary>
    public void Vpdpbusd(int acc, int unsignedBytes, Mem signedBytes) => Evex(2, 1, 0, 0x50, acc, unsignedBytes, signedBytes);

    public void Vpdpbusd(int acc, int unsignedBytes, int signedBytes) => Evex(2, 1, 0, 0x50, acc, unsignedBytes, signedBytes);

    /// <summary>vmovdqu32 zmm, m512.</summary>
    public void Vmovdqu32(int dst, Mem src) => Evex(1, 2, 0, 0x6F, dst, 0, src);

    /// <summary>vmovups m512, zmm.</summary>
    public void Vmovups(Mem dst, int src) => Evex(1, 0, 0, 0x11, src, 0, dst);

    /// <summary>vpandd zmm, zmm, zmm.</summary>
    public void Vpandd(int dst, int a, int b) => Evex(1, 1, 0, 0xDB, dst, a, b);

    /// <summary>vpaddd zmm, zmm, zmm.</summary>
    public void Vpaddd(int dst, int a, int b) => Evex(1, 1, 0, 0xFE, dst, a, b);

    /// <summary>vpxord zmm, zmm, zmm.</summary>
    public void Vpxord(int dst, int a, int b) => Evex(1, 1, 0, 0xEF, dst, a, b);

    /// <summary>vpsrlw zmm(dst), zmm(src), imm8: the destination goes in vvvv and /2 in ModRM.reg.</summary>
    public void Vpsrlw(int dst, int src, byte shift)
    {
        Evex(1, 1, 0, 0x71, 2, dst, src);
        _code.Add(shift);
    }

    /// <summary>vpbroadcastd zmm, m32.</summary>
    public void Vpbroadcastd(int dst, Mem src) => Evex(2, 1, 0, 0x58, dst, 0, src with { Broadcast = false });

    /// <summary>vpbroadcastd zmm, r32.</summary>
    public void VpbroadcastdFromGeneral(int dst, int general) => Evex(2, 1, 0, 0x7C, dst, 0, general);

    /// <summary>vcvtph2ps zmm, m256: sixteen binary16 values to float, exactly.</summary>
    public void Vcvtph2ps(int dst, Mem src) => Evex(2, 1, 0, 0x13, dst, 0, src with { Broadcast = false });

    /// <summary>vcvtdq2ps zmm, zmm.</summary>
    public void Vcvtdq2ps(int dst, int src) => Evex(1, 0, 0, 0x5B, dst, 0, src);

    /// <summary>vmulps zmm, zmm, zmm.</summary>
    public void Vmulps(int dst, int a, int b) => Evex(1, 0, 0, 0x59, dst, a, b);

    /// <summary>vmulps zmm, zmm, m512 or m32bcst.</summary>
    public void Vmulps(int dst, int a, Mem b) => Evex(1, 0, 0, 0x59, dst, a, b);

    /// <summary>vaddps zmm, zmm, zmm.</summary>
    public void Vaddps(int dst, int a, int b) => Evex(1, 0, 0, 0x58, dst, a, b);

    // ---- general purpose ----

    /// <summary>mov r32, imm32 (zero-extends into the 64-bit register).</summary>
    public void MovImmediate32(int register, uint value)
    {
        if (register >= 8) _code.Add(0x41);
        _code.Add((byte)(0xB8 + (register & 7)));
        Int32((int)value);
    }

    /// <summary>add r64, imm32.</summary>
    public void AddImmediate(int register, int value)
    {
        Rex(w: true, reg: 0, rm: register);
        _code.Add(0x81);
        _code.Add((byte)(0xC0 | (register & 7)));
        Int32(value);
    }

    /// <summary>dec r64.</summary>
    public void Decrement(int register)
    {
        Rex(w: true, reg: 0, rm: register);
        _code.Add(0xFF);
        _code.Add((byte)(0xC8 | (register & 7)));
    }

    /// <summary>prefetcht0 (hint 1) or prefetcht1 (hint 2) [base + disp32].</summary>
    public void Prefetch(Mem line, int hint)
    {
        if (line.Base >= 8) _code.Add(0x41);
        _code.Add(0x0F);
        _code.Add(0x18);
        Address(hint, line);
    }

    public void Label(int label) => _labels[label] = _code.Count;

    /// <summary>jnz rel32 to <paramref name="label"/> (resolved by <see cref="ToArray"/>).</summary>
    public void JumpIfNotZero(int label)
    {
        _code.Add(0x0F);
        _code.Add(0x85);
        _fixups.Add((_code.Count, label));
        Int32(0);
    }

    public void Vzeroupper()
    {
        _code.Add(0xC5);
        _code.Add(0xF8);
        _code.Add(0x77);
    }

    public void Return() => _code.Add(0xC3);

    public byte[] ToArray()
    {
        var code = _code.ToArray();
        foreach (var (at, label) in _fixups)
        {
            var relative = _labels[label] - (at + 4);
            BitConverter.TryWriteBytes(code.AsSpan(at, 4), relative);
        }
        return code;
    }

    // ---- encoding ----

    /// <summary>
    /// An EVEX.512 instruction: map (1 = 0F, 2 = 0F38), pp (0 none, 1 = 66, 2 = F3), W, opcode; ModRM.reg =
    /// <paramref name="reg"/> (zmm 0-31, or an opcode extension), vvvv = <paramref name="vvvv"/> (0 when unused),
    /// ModRM.rm = a zmm or general register.
    /// </summary>
    private void Evex(int map, int pp, int w, byte opcode, int reg, int vvvv, int rm)
    {
        // With a register rm, EVEX.X extends rm to 32 registers (bit 4) and EVEX.B gives bit 3.
        Prefix(map, pp, w, reg, vvvv, rmBit3: (rm >> 3) & 1, xBit: (rm >> 4) & 1, broadcast: false);
        _code.Add(opcode);
        _code.Add((byte)(0xC0 | ((reg & 7) << 3) | (rm & 7)));
    }

    private void Evex(int map, int pp, int w, byte opcode, int reg, int vvvv, Mem rm)
    {
        Prefix(map, pp, w, reg, vvvv, rmBit3: (rm.Base >> 3) & 1, xBit: 0, broadcast: rm.Broadcast);
        _code.Add(opcode);
        Address(reg, rm);
    }

    private void Prefix(int map, int pp, int w, int reg, int vvvv, int rmBit3, int xBit, bool broadcast)
    {
        _code.Add(0x62);
        // P0: R X B R' 0 m m m, with R, X, B and R' inverted.
        var p0 = ((~reg >> 3) & 1) << 7 | (~xBit & 1) << 6 | (~rmBit3 & 1) << 5 | ((~reg >> 4) & 1) << 4 | map;
        // P1: W vvvv(inverted) 1 pp.
        var p1 = w << 7 | (~vvvv & 0xF) << 3 | 1 << 2 | pp;
        // P2: z L'L b V'(inverted) aaa; L'L = 10 for 512 bits, no mask.
        var p2 = 0b10 << 5 | (broadcast ? 1 : 0) << 4 | ((~vvvv >> 4) & 1) << 3;
        _code.Add((byte)p0);
        _code.Add((byte)p1);
        _code.Add((byte)p2);
    }

    /// <summary>ModRM for [base + disp32] (mod = 10). Bases rsp and r12 would need a SIB byte and are not supported.</summary>
    private void Address(int reg, Mem m)
    {
        if ((m.Base & 7) == Rsp) throw new NotSupportedException("rsp / r12 as a base needs a SIB byte");
        _code.Add((byte)(0x80 | ((reg & 7) << 3) | (m.Base & 7)));
        Int32(m.Displacement);
    }

    private void Rex(bool w, int reg, int rm)
    {
        var rex = 0x40 | (w ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1);
        _code.Add((byte)rex);
    }

    private void Int32(int value)
    {
        _code.Add((byte)value);
        _code.Add((byte)(value >> 8));
        _code.Add((byte)(value >> 16));
        _code.Add((byte)(value >> 24));
    }
}
