using Flywheel.Kernels.Cpu;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>The accelerated kernel sets the parity tests compare with the reference, by name.</summary>
internal static class KernelSetParity
{
    public const string SkipReason = "this CPU lacks AVX2/FMA, so no accelerated kernel set runs here";

    private static readonly Lazy<CpuKernels> Multi = new(() => new CpuKernels(Math.Max(2, Environment.ProcessorCount)));
    private static readonly Lazy<CpuKernels> Single = new(() => new CpuKernels(1));

    /// <summary>"avx2" (a pool of at least two threads, so chunking is exercised even on one core) and "avx2-1t".</summary>
    public static IEnumerable<string> Names => CpuKernels.IsSupported ? ["avx2", "avx2-1t"] : ["none"];

    public static IKernelSet Get(string name) => name switch
    {
        "avx2" => Multi.Value,
        "avx2-1t" => Single.Value,
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
