using Flywheel.Kernels.Reference;

namespace Flywheel.Kernels;

/// <summary>
/// Chooses the kernel set once per process. <c>FLYWHEEL_KERNELS=reference</c> forces the scalar reference; other
/// values (avx2, avx512, gpu) are reserved for the sets still to come and fall back to the reference for now.
/// </summary>
public static class KernelSets
{
    public const string EnvironmentVariable = "FLYWHEEL_KERNELS";

    private static readonly Lazy<IKernelSet> DefaultSet = new(() => Choose(Environment.GetEnvironmentVariable(EnvironmentVariable)));

    public static IKernelSet Reference { get; } = new ReferenceKernels();

    /// <summary>The set the process uses; thread-safe.</summary>
    public static IKernelSet Default => DefaultSet.Value;

    public static IKernelSet Choose(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        null or "" or "reference" => Reference,
        // Only the reference exists yet; accelerated sets land in Cpu/ and Gpu projects.
        _ => Reference,
    };
}
