using Flywheel.Kernels.Cpu;
using Flywheel.Kernels.Reference;

namespace Flywheel.Kernels;

/// <summary>
/// Chooses the kernel set once per process: the x86 SIMD set (<see cref="CpuKernels"/>) when the CPU has AVX2 and
/// FMA, using AVX-VNNI where present, else the scalar reference. <c>FLYWHEEL_KERNELS=reference</c> forces the
/// reference; <c>avx2</c> forces the SIMD set without VNNI (pmaddubsw); <c>avx512</c> (or <c>vnni</c>, <c>cpu</c>) asks
/// for the best SIMD set (its int8 dot products are 256-bit vpdpbusd, which is what .NET 10 exposes). Sets the CPU
/// cannot run fall back to the reference. <c>gpu</c> is reserved.
/// </summary>
public static class KernelSets
{
    public const string EnvironmentVariable = "FLYWHEEL_KERNELS";

    private static readonly Lazy<IKernelSet> DefaultSet = new(() => Choose(Environment.GetEnvironmentVariable(EnvironmentVariable)));

    private static readonly Lazy<IKernelSet?> CpuSet = new(() => CpuKernels.IsSupported ? new CpuKernels() : null);

    private static readonly Lazy<IKernelSet?> Avx2Set = new(() => CpuKernels.IsSupported ? new CpuKernels(useVnni: false) : null);

    public static IKernelSet Reference { get; } = new ReferenceKernels();

    /// <summary>The shared SIMD set (one thread per logical processor), or null when the CPU lacks AVX2/FMA.</summary>
    public static IKernelSet? Cpu => CpuSet.Value;

    /// <summary>The set the process uses; thread-safe.</summary>
    public static IKernelSet Default => DefaultSet.Value;

    /// <summary>The set named by <paramref name="name"/> (as <see cref="EnvironmentVariable"/> takes it), shared per process.</summary>
    public static IKernelSet Choose(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "reference" => Reference,
        "avx2" => Avx2Set.Value ?? Reference,
        null or "" or "avx512" or "vnni" or "cpu" => Cpu ?? Reference,
        _ => Reference,
    };
}
