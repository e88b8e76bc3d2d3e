using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Flywheel.Kernels.Cpu;

namespace Flywheel.Kernels.Tests.Cpu;

public class VnniKernelsTests
{
    /// <summary>
    /// Where the CPU reports AVX512-VNNI on Linux x64, the machine-code kernels must have been built, so the
    /// "avx512-vnni" parity theories really run them rather than quietly falling back to the C# tiles.
    /// </summary>
    [Fact]
    public void The_kernels_are_built_wherever_the_cpu_has_avx512_vnni()
    {
        var cpuHasIt = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
            && CpuKernels.Avx512Supported && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;
        Assert.Equal(cpuHasIt, VnniKernels.IsSupported);
        Assert.Equal(cpuHasIt, KernelSetParity.Names.Contains("avx512-vnni"));
        if (cpuHasIt) Assert.Equal("avx512-vnni", KernelSetParity.Get("avx512-vnni").Name);
    }
}
