using Flywheel.Kernels.Cpu;

namespace Flywheel.Kernels.Tests.Cpu;

public sealed class ChunkPlanTests
{
    public static TheoryData<int, int, double> Plans()
    {
        var data = new TheoryData<int, int, double>();
        foreach (var count in new[] { 1, 2, 3, 7, 8, 9, 56, 57, 304, 9496 })
        {
            foreach (var threads in new[] { 1, 2, 3, 16 })
            {
                foreach (var share in new[] { 0.0, 0.5, 0.9, 1.0 }) data.Add(count, threads, share);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Plans))]
    public void Chunks_cover_every_item_once_in_order(int count, int threads, double share)
    {
        var plan = ChunkPlan.HeadAndTail(count, threads, share, 4);
        var next = 0;
        for (var c = 0; c < plan.Chunks; c++)
        {
            var (from, to) = plan.Range(c);
            Assert.Equal(next, from);
            Assert.True(to > from, $"chunk {c} of {plan.Chunks} is empty ({from}..{to})");
            next = to;
        }
        Assert.Equal(count, next);
    }

    [Fact]
    public void Each_thread_starts_on_one_long_run_then_short_chunks_balance()
    {
        var plan = ChunkPlan.HeadAndTail(9496, 2, 0.9, 4);
        Assert.Equal(2, plan.HeadChunks);
        Assert.Equal(4273, plan.Range(0).To - plan.Range(0).From);   // 0.9 · 9496 / 2, rounded down
        Assert.Equal(8, plan.Chunks - plan.HeadChunks);               // the other 950 groups in 4 chunks a thread
        Assert.All(Enumerable.Range(2, 8), c => Assert.InRange(plan.Range(c).To - plan.Range(c).From, 1, 119));
    }

    [Fact]
    public void A_packed_matmul_runs_long_for_one_tile_and_in_L2_sized_chunks_for_several()
    {
        // One tile (decode): a long run per thread, then short chunks.
        Assert.Equal(2, ChunkPlan.ForPackedMatMul(304, 8192, rows: 8, tileRows: 8, threads: 2).HeadChunks);
        // Several tiles: uniform chunks of at most L2ChunkBytes of weights (192 KiB / 8 KiB = 24 groups), here fewer
        // for balance (304 groups over 2 threads × 4 = 38 > 24, so 24).
        var prompt = ChunkPlan.ForPackedMatMul(304, 8192, rows: 9, tileRows: 8, threads: 2);
        Assert.Equal(0, prompt.HeadChunks);
        Assert.Equal(ChunkPlan.L2ChunkBytes / 8192, prompt.TailSize);
        Assert.Equal(5, ChunkPlan.ForPackedMatMul(40, 8192, rows: 64, tileRows: 8, threads: 2).TailSize); // 40 / 8 by balance
    }

    [Fact]
    public void Uniform_chunks_are_the_size_asked_for_but_the_last()
    {
        var plan = ChunkPlan.Uniform(10, 4);
        Assert.Equal(3, plan.Chunks);
        Assert.Equal((0, 4), plan.Range(0));
        Assert.Equal((8, 10), plan.Range(2));
    }
}
