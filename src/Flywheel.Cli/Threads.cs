using System.Diagnostics;

namespace Flywheel.Cli;

/// <summary>
/// <c>--threads N</c>. The kernels spread work with Parallel.For and expose no thread-count setting, so the limit
/// is set on the whole process: its CPU affinity is narrowed to N cores, which bounds how many kernel threads run
/// at once. Where affinity cannot be set (macOS) the flag is refused rather than silently ignored.
/// </summary>
internal static class Threads
{
    public static void Apply(int? threads)
    {
        if (threads is not { } n) return;
        if (n < 1) throw new CliUsageException($"--threads must be at least 1, got {n}");
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
