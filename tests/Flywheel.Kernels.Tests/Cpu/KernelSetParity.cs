using Flywheel.Kernels.Cpu;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>The accelerated kernel sets the parity tests compare with the reference, by name.</summary>
internal static class KernelSetParity
{
    public const string SkipReason = "this CPU lacks AVX2/FMA, so no accelerated kernel set runs here";

    private static readonly Lazy<CpuKernels> Multi = new(() => new CpuKernels(Math.Max(2, Environment.ProcessorCount), useVnni: false, useAvx512: false));
    private static readonly Lazy<CpuKernels> Single = new(() => new CpuKernels(1, useVnni: false, useAvx512: false));
    private static readonly Lazy<CpuKernels> Multi512 = new(() => new CpuKernels(Math.Max(2, Environment.ProcessorCount), useVnni: false));
    private static readonly Lazy<CpuKernels> Single512 = new(() => new CpuKernels(1, useVnni: false));
    private static readonly Lazy<CpuKernels> Vnni = new(() => new CpuKernels(Math.Max(2, Environment.ProcessorCount)));
    private static readonly Lazy<CpuKernels> Single512Vnni = new(() => new CpuKernels(1));

    /// <summary>
    /// "avx2" (pmaddubsw; a pool of at least two threads, so chunking is exercised even on one core) and "avx2-1t",
    /// then "avx512" and "avx512-1t" where the CPU has AVX-512 (the 512-bit kernels with vpmaddubsw, the rest as
    /// "avx2"), and "avx512-vnni" and "avx512-vnni-1t" where it also has AVX512-VNNI (the machine-code vpdpbusd tiles).
    /// </summary>
    public static IEnumerable<string> Names =>
        !CpuKernels.IsSupported ? ["none"]
        : VnniKernels.IsSupported ? ["avx2", "avx2-1t", "avx512", "avx512-1t", "avx512-vnni", "avx512-vnni-1t"]
        : CpuKernels.Avx512Supported ? ["avx2", "avx2-1t", "avx512", "avx512-1t"]
        : ["avx2", "avx2-1t"];

    /// <summary>"avx-vnni" (vpdpbusd, two threads); its theories skip with <see cref="VnniSkipReason"/> without AVX-VNNI.</summary>
    public static IEnumerable<string> VnniNames => ["avx-vnni"];

    public const string VnniSkipReason = "this CPU lacks AVX-VNNI, so the avx-vnni kernel set cannot run here";

    public static IKernelSet Get(string name) => name switch
    {
        "avx2" => Multi.Value,
        "avx2-1t" => Single.Value,
        "avx512" => Multi512.Value,
        "avx512-1t" => Single512.Value,
        "avx-vnni" => Vnni.Value,
        "avx512-vnni" => Vnni.Value,     // the same best set: AVX512-VNNI where the CPU has it
        "avx512-vnni-1t" => Single512Vnni.Value,
        _ => throw new ArgumentException($"no kernel set {name}"),
    };
}

/// <summary>A theory skipped, with the reason, when the CPU cannot run an accelerated set.</summary>
public sealed class AcceleratedTheoryAttribute : TheoryAttribute
{
    public AcceleratedTheoryAttribute()
    {
        if (!CpuKernels.IsSupported) Skip = KernelSetParity.SkipReason;
    }
}

/// <summary>A fact skipped, with the reason, when the CPU cannot run an accelerated set.</summary>
public sealed class AcceleratedFactAttribute : FactAttribute
{
    public AcceleratedFactAttribute()
    {
        if (!CpuKernels.IsSupported) Skip = KernelSetParity.SkipReason;
    }
}

/// <summary>A theory skipped, with the reason, when the CPU lacks AVX-VNNI.</summary>
public sealed class VnniTheoryAttribute : TheoryAttribute
{
    public VnniTheoryAttribute()
    {
        if (!CpuKernels.VnniSupported) Skip = KernelSetParity.VnniSkipReason;
    }
}
