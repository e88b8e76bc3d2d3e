using Flywheel.Store.Traffic;
using Flywheel.Testing;

namespace Flywheel.Store.Tests.Traffic;

/// <summary>Queue behaviour of <see cref="CaptureWriter"/> that needs a store it can hold up.</summary>
public class CaptureWriterTests
{
    private static TrafficRecord Record() => new()
    {
        Id = TrafficIds.New(TrafficKind.Chat), Tenant = "acme", Kind = TrafficKind.Chat, Model = "m",
        RequestJson = """[{"role":"user","content":"hi"}]""", OutputText = "hello", CreatedAt = DateTimeOffset.UtcNow,
    };

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }

    [Fact]
    public async Task A_full_queue_makes_producers_wait_and_drops_nothing()
    {
        await using var inner = await FlywheelStore.OpenAsync(TestPaths.TempDir(), null);
        var (store, control) = GatedStore.Wrap(inner);
        await using var writer = new CaptureWriter(store, new CaptureWriterOptions(QueueCapacity: 4, MaxBatch: 2));

        var tasks = Enumerable.Range(0, 20).Select(_ => writer.EnqueueAsync(Record())).ToList();
        // The writer holds one batch of 2 at the closed gate; 4 fill the queue; the other 14 wait for room.
        await WaitUntil(() => control.WriteCalls == 1 && writer.Queued == 4);
        await Task.Delay(100);
        Assert.Equal(4, writer.Queued);
        Assert.DoesNotContain(tasks, t => t.IsCompleted);
        Assert.Equal(0, await inner.CountTrafficAsync("acme"));

        control.Gate.Release(1000);
        Assert.All(await Task.WhenAll(tasks), Assert.True);
        Assert.Equal(20, await inner.CountTrafficAsync("acme"));
        Assert.Equal(20, writer.Written);
        Assert.Equal(0, writer.Failed);
    }

    [Fact]
    public async Task Cancelling_a_wait_for_room_leaves_the_record_unwritten()
    {
        await using var inner = await FlywheelStore.OpenAsync(TestPaths.TempDir(), null);
        var (store, control) = GatedStore.Wrap(inner);
        await using var writer = new CaptureWriter(store, new CaptureWriterOptions(QueueCapacity: 1, MaxBatch: 1));
        var first = writer.EnqueueAsync(Record());
        await WaitUntil(() => control.WriteCalls == 1);
        var second = writer.EnqueueAsync(Record());
        await WaitUntil(() => writer.Queued == 1);
        using var cancel = new CancellationTokenSource();
        var late = Record();
        var third = writer.EnqueueAsync(late, cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third);
        control.Gate.Release(10);
        Assert.True(await first);
        Assert.True(await second);
        await writer.FlushAsync();
        Assert.Equal(2, await inner.CountTrafficAsync("acme"));
        Assert.Null(await inner.GetTrafficAsync("acme", late.Id));
    }

    [Fact]
    public async Task Flush_waits_for_everything_queued_before_it()
    {
        await using var inner = await FlywheelStore.OpenAsync(TestPaths.TempDir(), null);
        var (store, control) = GatedStore.Wrap(inner);
        await using var writer = new CaptureWriter(store, new CaptureWriterOptions(QueueCapacity: 100, MaxBatch: 10));
        var tasks = Enumerable.Range(0, 30).Select(_ => writer.EnqueueAsync(Record())).ToList();
        var flush = writer.FlushAsync();
        await Task.Delay(100);
        Assert.False(flush.IsCompleted);
        control.Gate.Release(1000);
        await flush;
        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.Equal(30, await inner.CountTrafficAsync("acme"));
    }
}
