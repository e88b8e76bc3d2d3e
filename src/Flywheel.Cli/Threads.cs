using System.Diagnostics;
using Flywheel.Kernels;
using Flywheel.Kernels.Reference;

namespace Flywheel.Cli;

/// <summary>
/// <c>--threads N</c>. The SIMD kernel sets take the count directly (<see cref="KernelSets.SetThreads"/>: their pools
/// run N threads; the default is the physical cores). The reference set spreads work with Parallel.For and has no
/// such setting, so under <c>FLYWHEEL_KERNELS=reference</c> the process's CPU affinity is narrowed to N cores instead;
/// where affinity cannot be set (macOS) the flag is then refused rather than silently ignored.
/// </summary>
internal static class Threads
{
    public static void Apply(int? threads)
    {
        if (threads is not { } n) return;
        if (n < 1) throw new CliUsageException($"--threads must be at least 1, got {n}");
        KernelSets.SetThreads(n);
        if (KernelSets.Default is not ReferenceKernels) return;
        if (n >= Environment.ProcessorCount) return;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            Narrow(n);
            return;
        }
        throw new CliUsageException("--threads is only supported on Linux and Windows (it sets the process's CPU affinity)");
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private static void Narrow(int n)
    {
        using var process = Process.GetCurrentProcess();
        var allowed = (long)process.ProcessorAffinity;
        long mask = 0;
        var picked = 0;
        for (var bit = 0; bit < 64 && picked < n; bit++)
        {
            if ((allowed & (1L << bit)) == 0) continue;
            mask |= 1L << bit;
            picked++;
        }
        if (picked > 0) process.ProcessorAffinity = (nint)mask;
    }
}
