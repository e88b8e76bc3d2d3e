using Flywheel.Kernels.Cpu;

namespace Flywheel.Kernels.Tests.Cpu;

public sealed unsafe class KernelThreadPoolTests
{
    private static void Count(void* context, int chunk) => Interlocked.Increment(ref ((int*)context)[chunk]);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void Every_chunk_runs_exactly_once_per_job(int threads)
    {
        using var pool = new KernelThreadPool(threads);
        var counts = new int[97];
        fixed (int* c = counts)
        {
            for (var job = 0; job < 500; job++) pool.Run(&Count, c, 1 + job % 97);
        }
        for (var i = 0; i < counts.Length; i++)
        {
            var expected = Enumerable.Range(0, 500).Count(job => i < 1 + job % 97);
            Assert.Equal(expected, counts[i]);
        }
    }

    [Fact]
    public void Workers_that_went_to_sleep_wake_for_the_next_job()
    {
        using var pool = new KernelThreadPool(3);
        var counts = new int[8];
        fixed (int* c = counts)
        {
            pool.Run(&Count, c, 8);
            Thread.Sleep(100); // past the spin phase
            pool.Run(&Count, c, 8);
        }
        Assert.All(counts, v => Assert.Equal(2, v));
    }
}
