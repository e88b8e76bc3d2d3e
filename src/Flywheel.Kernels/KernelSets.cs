using Flywheel.Kernels.Cpu;
using Flywheel.Kernels.Reference;

namespace Flywheel.Kernels;

/// <summary>
/// Chooses the kernel set once per process: the x86 SIMD set (<see cref="CpuKernels"/>) when the CPU has AVX2 and
/// FMA, using AVX-512 and VNNI kernels where the CPU has them, else the scalar reference.
/// <c>FLYWHEEL_KERNELS=reference</c> forces the reference; <c>avx2</c> forces the 256-bit SIMD set without VNNI
/// (pmaddubsw); <c>avx512</c> (or <c>vnni</c>, <c>cpu</c>) asks for the best SIMD set. .NET 10 exposes vpdpbusd only
/// as AVX-VNNI (VEX) and AVX10, so on a CPU with AVX512-VNNI alone (Zen 4) the best set reaches it through the
/// machine-code tiles of <c>VnniKernels</c> ("avx512-vnni"); <c>avx512-novnni</c> keeps the 512-bit kernels on
/// pmaddubsw. Sets the CPU
/// cannot run fall back to the reference. <c>gpu</c> is reserved.
/// The SIMD sets run matmuls and attention on <see cref="ThreadCount"/> threads: the physical cores this process may
/// use unless <see cref="SetThreads"/> said otherwise before the first set was made.
/// </summary>
public static class KernelSets
{
    public const string EnvironmentVariable = "FLYWHEEL_KERNELS";

    private static readonly Lazy<IKernelSet> DefaultSet = new(() => Choose(Environment.GetEnvironmentVariable(EnvironmentVariable)));

    private static readonly Lazy<IKernelSet?> CpuSet = new(() => CpuKernels.IsSupported ? new CpuKernels(ThreadCount) : null);

    private static readonly Lazy<IKernelSet?> Avx2Set = new(() => CpuKernels.IsSupported ? new CpuKernels(ThreadCount, useVnni: false, useAvx512: false) : null);

    private static readonly Lazy<IKernelSet?> NoVnniSet = new(() => CpuKernels.IsSupported ? new CpuKernels(ThreadCount, useVnni: false) : null);

    private static int _threads;

    /// <summary>Threads the shared SIMD sets use (the calling thread included).</summary>
    public static int ThreadCount => _threads > 0 ? _threads : PhysicalCores.Value;

    /// <summary>
    /// Sets <see cref="ThreadCount"/> (the CLI's <c>--threads</c>). Call it before the first kernel set is used; a
    /// later call that would change the count throws, since the shared sets' pools are already running.
    /// </summary>
    public static void SetThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if ((CpuSet.IsValueCreated || Avx2Set.IsValueCreated || NoVnniSet.IsValueCreated) && threads != ThreadCount)
        {
            throw new InvalidOperationException($"the kernel sets already run {ThreadCount} threads; set the count before first use");
        }
        _threads = threads;
    }

    /// <summary>A new set of the kind <paramref name="name"/> names (as <see cref="Choose"/>) running <paramref name="threads"/> threads.</summary>
    public static IKernelSet Create(string? name, int threads) => name?.Trim().ToLowerInvariant() switch
    {
        "reference" => Reference,
        _ when !CpuKernels.IsSupported => Reference,
        "avx2" => new CpuKernels(threads, useVnni: false, useAvx512: false),
        "avx512-novnni" => new CpuKernels(threads, useVnni: false),
        null or "" or "avx512" or "vnni" or "cpu" => new CpuKernels(threads),
        _ => Reference,
    };

    private static readonly Lazy<int> PhysicalCores = new(CountPhysicalCores);

    /// <summary>
    /// Cores (not hyper-threads) among the CPUs this process may run on, from Linux's topology files; elsewhere, or
    /// when they cannot be read, the logical processor count. Int8 matmuls saturate a core's vector units, so a
    /// second hyper-thread per core adds contention rather than speed.
    /// </summary>
    private static int CountPhysicalCores()
    {
        try
        {
            if (!OperatingSystem.IsLinux()) return Environment.ProcessorCount;
            var cores = new HashSet<string>();
            foreach (var cpu in AllowedCpus())
            {
                var siblings = $"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list";
                var package = $"/sys/devices/system/cpu/cpu{cpu}/topology/physical_package_id";
                if (!File.Exists(siblings)) return Environment.ProcessorCount;
                var id = File.ReadAllText(siblings).Trim() + "@" + (File.Exists(package) ? File.ReadAllText(package).Trim() : "0");
                cores.Add(id);
            }
            return cores.Count > 0 ? Math.Min(cores.Count, Environment.ProcessorCount) : Environment.ProcessorCount;
        }
        catch (IOException)
        {
            return Environment.ProcessorCount;
        }
        catch (UnauthorizedAccessException)
        {
            return Environment.ProcessorCount;
        }
    }

    // CPUs in this process's affinity mask (Cpus_allowed_list in /proc/self/status), e.g. "0-3,8".
    private static IEnumerable<int> AllowedCpus()
    {
        var list = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
        if (list is null) return Enumerable.Range(0, Environment.ProcessorCount);
        var cpus = new List<int>();
        foreach (var part in list["Cpus_allowed_list:".Length..].Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0) cpus.Add(int.Parse(part, System.Globalization.CultureInfo.InvariantCulture));
            else
            {
                var from = int.Parse(part[..dash], System.Globalization.CultureInfo.InvariantCulture);
                var to = int.Parse(part[(dash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                for (var c = from; c <= to; c++) cpus.Add(c);
            }
        }
        return cpus;
    }

    public static IKernelSet Reference { get; } = new ReferenceKernels();

    /// <summary>The shared SIMD set (<see cref="ThreadCount"/> threads), or null when the CPU lacks AVX2/FMA.</summary>
    public static IKernelSet? Cpu => CpuSet.Value;

    /// <summary>The set the process uses; thread-safe.</summary>
    public static IKernelSet Default => DefaultSet.Value;

    /// <summary>The set named by <paramref name="name"/> (as <see cref="EnvironmentVariable"/> takes it), shared per process.</summary>
    public static IKernelSet Choose(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "reference" => Reference,
        "avx2" => Avx2Set.Value ?? Reference,
        "avx512-novnni" => NoVnniSet.Value ?? Reference,
        null or "" or "avx512" or "vnni" or "cpu" => Cpu ?? Reference,
        _ => Reference,
    };
}
