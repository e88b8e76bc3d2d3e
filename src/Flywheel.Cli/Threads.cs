using Flywheel.Kernels;

namespace Flywheel.Cli;

/// <summary>
/// <c>--threads N</c>: sets <see cref="KernelSets.ThreadCount"/> before the first kernel set is made, so the SIMD sets'
/// pools run N threads and the reference set's Parallel.For uses at most N (the default is the physical cores). The
/// process's CPU affinity is left alone: other threads of the process (the server's, the runtime's) keep every core.
/// </summary>
internal static class Threads
{
    public static void Apply(int? threads)
    {
        if (threads is not { } n) return;
        if (n < 1) throw new CliUsageException($"--threads must be at least 1, got {n}");
        KernelSets.SetThreads(n);
    }
}
