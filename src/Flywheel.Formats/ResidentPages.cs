using System.Runtime.InteropServices;

namespace Flywheel.Formats;

/// <summary>
/// Gives back the physical pages behind part of a read-only file mapping. A model whose weights were copied into a
/// kernel set's own layout at load no longer reads the file's bytes for its matmuls, yet the pages the copy read stay
/// resident and count twice. Dropping them is always safe for a read-only file mapping: a later read faults the page in
/// again from the file. Linux only (madvise); elsewhere it does nothing.
/// </summary>
internal static unsafe partial class ResidentPages
{
    private const int MadviseDontNeed = 4; // MADV_DONTNEED, linux/mman-common.h

    /// <summary>Drops the whole pages inside [start, start + length); partial pages at either end stay, since other
    /// tensors share them.</summary>
    public static void Release(byte* start, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        var page = Environment.SystemPageSize;
        var from = ((nuint)start + (nuint)page - 1) & ~(nuint)(page - 1);
        var to = ((nuint)start + (nuint)length) & ~(nuint)(page - 1);
        if (to <= from) return;
        // A failure only means the pages stay resident, which is where they were.
        _ = Madvise((void*)from, to - from, MadviseDontNeed);
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
