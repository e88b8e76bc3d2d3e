using Flywheel.Kernels.Cpu;
using Flywheel.Kernels.Reference;

namespace Flywheel.Kernels;

/// <summary>
/// Chooses the kernel set once per process: the x86 SIMD set (<see cref="CpuKernels"/>) when the CPU has AVX2 and
/// FMA, else the scalar reference. <c>FLYWHEEL_KERNELS=reference</c> forces the reference; <c>avx2</c> and
/// <c>avx512</c> ask for the SIMD set (which uses 256-bit vectors for now) and fall back to the reference when the CPU
/// lacks AVX2. <c>gpu</c> is reserved.
/// </summary>
public static class KernelSets
{
    public const string EnvironmentVariable = "FLYWHEEL_KERNELS";

    private static readonly Lazy<IKernelSet> DefaultSet = new(() => Choose(Environment.GetEnvironmentVariable(EnvironmentVariable)));

    private static readonly Lazy<IKernelSet?> CpuSet = new(() => CpuKernels.IsSupported ? new CpuKernels() : null);

    public static IKernelSet Reference { get; } = new ReferenceKernels();

    /// <summary>The shared SIMD set (one thread per logical processor), or null when the CPU lacks AVX2/FMA.</summary>
    public static IKernelSet? Cpu => CpuSet.Value;

    /// <summary>The set the process uses; thread-safe.</summary>
    public static IKernelSet Default => DefaultSet.Value;

    public static IKernelSet Choose(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "reference" => Reference,
        null or "" or "avx2" or "avx512" or "cpu" => Cpu ?? Reference,
        _ => Reference,
    };
}
