using Flywheel.Store.Datasets;
using Flywheel.Store.Feedback;

namespace Flywheel.Store.Tests;

public abstract partial class StoreContractTests
{
    /// <summary>
    /// Tenant "mallory" knows every id and name of tenant "acme" and tries each store method that takes a tenant.
    /// Every attempt is counted; none may succeed, and acme's data must be unchanged afterwards.
    /// </summary>
    [ProviderFact]
    public async Task No_store_method_lets_one_tenant_reach_another_tenants_data()
    {
        var records = Enumerable.Range(0, 5).Select(_ => Record("acme")).ToList();
        await Store.WriteTrafficAsync(records);
        await Store.AddFeedbackAsync("acme", new FeedbackInput(records[0].Id, 5));
        await Store.CreateDatasetAsync(new NewDataset("acme", "gold", "test",
            [new DatasetExample("""[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]""", DatasetSplit.Train, records[0].Id)]));
        await Store.WriteTrafficAsync([Record("mallory")]);
        await Store.CreateDatasetAsync(new NewDataset("mallory", "own", "test",
            [new DatasetExample("""[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]""", DatasetSplit.Test)]));

        int attempts = 0, succeeded = 0;
        void Count(bool leaked)
        {
            attempts++;
            if (leaked)
            {
                succeeded++;
                Output.WriteLine($"attempt {attempts} reached acme's data");
            }
        }
        foreach (var r in records)
        {
            Count(await Store.GetTrafficAsync("mallory", r.Id) is not null);
            Count((await Store.AddFeedbackAsync("mallory", new FeedbackInput(r.Id, 1, Correction.FromText("pwned")))).Outcome != FeedbackOutcome.UnknownRecord);
            Count((await Store.ListFeedbackAsync("mallory", r.Id)).Count > 0);
        }
        Count((await Store.QueryExchangesAsync("mallory")).Any(e => e.Record.Tenant != "mallory"));
        Count(await Store.CountTrafficAsync("mallory") != 1);
        Count(await Store.GetDatasetAsync("mallory", "gold") is not null);
        Count(await Store.GetDatasetExamplesAsync("mallory", "gold", DatasetSplit.All) is not null);
        Count(await Store.GetDatasetExamplesAsync("mallory", "gold", DatasetSplit.Train) is not null);
        Count((await Store.ListDatasetsAsync("mallory")).Any(d => d.Name == "gold"));
        Count(await Store.DeleteDatasetAsync("mallory", "gold"));
        // Creating a dataset of the same name in its own space must not touch acme's.
        await Store.CreateDatasetAsync(new NewDataset("mallory", "gold", "test",
            [new DatasetExample("""[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]""", DatasetSplit.Train)]));
        Count((await Store.GetDatasetExamplesAsync("mallory", "gold", DatasetSplit.All))!.Any(e => e.RecordId is not null));
        await IsolationAttemptsBeyondTheStoreAsync(records.Select(r => r.Id).ToList(), Count);

        // acme's data is intact.
        Assert.Equal(5, await Store.CountTrafficAsync("acme"));
        Assert.Single(await Store.ListFeedbackAsync("acme", records[0].Id));
        Assert.Empty(await Store.ListFeedbackAsync("acme", records[1].Id));
        Assert.Single((await Store.GetDatasetExamplesAsync("acme", "gold", DatasetSplit.All))!);
        Output.WriteLine($"cross-tenant attempts: {attempts}, succeeded: {succeeded}");
        Assert.Equal(0, succeeded);
        Assert.True(attempts >= 28);
    }

    /// <summary>Attempts through the layers above the store (dataset building and export), each passed to <paramref name="count"/>.</summary>
    private partial Task IsolationAttemptsBeyondTheStoreAsync(IReadOnlyList<string> acmeRecordIds, Action<bool> count);
}
