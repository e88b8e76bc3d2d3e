using System.Runtime.InteropServices;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// Pages of machine code made by <see cref="X64Assembler"/>: mapped writable, filled, then switched to read + execute
/// (never writable and executable at once). Linux only (mmap and mprotect from libc). The pages live as long as the
/// process: the kernels that use them are process-wide.
/// </summary>
internal static unsafe partial class ExecutableMemory
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    private const int MapPrivate = 2, MapAnonymous = 0x20;

    /// <summary>Copies <paramref name="code"/> into fresh executable pages and returns its address.</summary>
    public static byte* Load(ReadOnlySpan<byte> code)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("executable pages are mapped on Linux only");
        var length = (nuint)((code.Length + 4095) & ~4095);
        var pages = Mmap(null, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (pages == (void*)-1) throw new InvalidOperationException($"mmap failed (errno {Marshal.GetLastPInvokeError()})");
        code.CopyTo(new Span<byte>(pages, code.Length));
        if (Mprotect(pages, length, ProtRead | ProtExec) != 0)
        {
            throw new InvalidOperationException($"mprotect failed (errno {Marshal.GetLastPInvokeError()})");
        }
        return (byte*)pages;
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(void* address, nuint length, int protection);
}
