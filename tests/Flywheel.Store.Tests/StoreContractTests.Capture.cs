using Flywheel.Store.Tenants;
using Flywheel.Store.Traffic;

namespace Flywheel.Store.Tests;

public abstract partial class StoreContractTests
{
    [ProviderFact]
    public async Task Captured_records_are_durable_when_their_task_completes_and_batched()
    {
        const int count = 400;
        var records = Enumerable.Range(0, count).Select(i => Record(i % 2 == 0 ? "acme" : "globex")).ToList();
        await using (var writer = new CaptureWriter(Store, new CaptureWriterOptions(QueueCapacity: 64, MaxBatch: 32)))
        {
            var stored = await Task.WhenAll(records.Select(r => Task.Run(() => writer.EnqueueAsync(r))));
            Assert.All(stored, Assert.True);
            // Each completed task means committed: another store instance sees every record now.
            await using var other = await ReopenAsync();
            Assert.Equal(count / 2, await other.CountTrafficAsync("acme"));
            Assert.Equal(count / 2, await other.CountTrafficAsync("globex"));
            Assert.Equal(count, writer.Written);
            Assert.True(writer.Batches < count, $"{writer.Batches} transactions for {count} records: no group commit");
            Output.WriteLine($"{count} records in {writer.Batches} transactions");
        }
        var sample = records[17];
        Assert.Equal(sample, await Store.GetTrafficAsync(sample.Tenant, sample.Id) is { } back ? back with { RequestJson = sample.RequestJson } : null);
    }

    [ProviderFact]
    public async Task Capture_follows_the_tenant_switches()
    {
        await Store.SetTenantSettingsAsync("quiet", new TenantSettings(CaptureEnabled: false));
        await Store.SetTenantSettingsAsync("raw", new TenantSettings(RedactionEnabled: false));
        await using var writer = new CaptureWriter(Store);
        var secret = "Mail me at jane.doe@example.com or call +1 415-555-0100.";
        var quiet = Record("quiet", output: secret);
        var raw = Record("raw", output: secret);
        var redacted = Record("acme", output: secret, user: "我的手机号是13812345678");
        Assert.False(await writer.EnqueueAsync(quiet));
        Assert.True(await writer.EnqueueAsync(raw));
        Assert.True(await writer.EnqueueAsync(redacted));
        Assert.Null(await Store.GetTrafficAsync("quiet", quiet.Id));
        Assert.Equal(secret, (await Store.GetTrafficAsync("raw", raw.Id))!.OutputText);
        var stored = (await Store.GetTrafficAsync("acme", redacted.Id))!;
        Assert.Equal("Mail me at [EMAIL] or call [PHONE].", stored.OutputText);
        Assert.Contains("我的手机号是[PHONE]", stored.RequestJson, StringComparison.Ordinal);
        Assert.DoesNotContain("13812345678", stored.RequestJson, StringComparison.Ordinal);
        Assert.Equal(1, writer.Skipped);
    }

    [ProviderFact]
    public async Task A_bad_record_fails_only_its_own_task()
    {
        var existing = Record("acme");
        await Store.WriteTrafficAsync([existing]);
        await using var writer = new CaptureWriter(Store, new CaptureWriterOptions(MaxBatch: 64));
        var good = Enumerable.Range(0, 10).Select(_ => Record("acme")).ToList();
        var tasks = good.Select(r => writer.EnqueueAsync(r)).Append(writer.EnqueueAsync(existing with { OutputText = "dup" })).ToList();
        var failure = await Assert.ThrowsAsync<StoreException>(() => tasks[^1]);
        Assert.Contains(existing.Id, failure.Message, StringComparison.Ordinal);
        foreach (var t in tasks.Take(10)) Assert.True(await t);
        Assert.Equal(11, await Store.CountTrafficAsync("acme"));
        Assert.Equal(1, writer.Failed);
    }

    [ProviderFact]
    public async Task Dispose_drains_the_queue()
    {
        var writer = new CaptureWriter(Store, new CaptureWriterOptions(QueueCapacity: 1000, MaxBatch: 8));
        var tasks = Enumerable.Range(0, 100).Select(_ => writer.EnqueueAsync(Record("acme"))).ToList();
        await writer.DisposeAsync();
        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.Equal(100, await Store.CountTrafficAsync("acme"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => writer.EnqueueAsync(Record("acme")));
    }
}
