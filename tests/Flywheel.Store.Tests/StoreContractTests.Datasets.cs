using Flywheel.Store.Datasets;

namespace Flywheel.Store.Tests;

public abstract partial class StoreContractTests
{
    private const string Hello = """[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]""";

    [ProviderFact]
    public async Task Datasets_are_saved_listed_split_and_deleted()
    {
        var examples = new List<DatasetExample>
        {
            new(Hello, DatasetSplit.Train, "chatcmpl-1"),
            new("""[{"role":"user","content":"2"},{"role":"assistant","content":"two"}]""", DatasetSplit.Test),
            new("""[{"role":"user","content":"3"},{"role":"assistant","content":"three"}]""", DatasetSplit.Train),
        };
        var info = await Store.CreateDatasetAsync(new NewDataset("acme", "v1", "where rating >= 4", examples));
        Assert.Equal((2, 1, 3), (info.TrainCount, info.TestCount, info.ExampleCount));
        Assert.Equal(info, await Store.GetDatasetAsync("acme", "v1"));
        Assert.Equal(["v1"], (await Store.ListDatasetsAsync("acme")).Select(d => d.Name));
        Assert.Equal(examples, await Store.GetDatasetExamplesAsync("acme", "v1", DatasetSplit.All));
        Assert.Equal([examples[0], examples[2]], await Store.GetDatasetExamplesAsync("acme", "v1", DatasetSplit.Train));
        Assert.Equal([examples[1]], await Store.GetDatasetExamplesAsync("acme", "v1", DatasetSplit.Test));

        var e = await Assert.ThrowsAsync<StoreException>(() => Store.CreateDatasetAsync(new NewDataset("acme", "v1", "again", examples)));
        Assert.Contains("already has a dataset named 'v1'", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.CreateDatasetAsync(new NewDataset("acme", "bad name", "x", examples)));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.CreateDatasetAsync(new NewDataset("acme", "v2", "x", [new(Hello, DatasetSplit.All)])));

        var empty = await Store.CreateDatasetAsync(new NewDataset("acme", "empty", "nothing matched", []));
        Assert.Equal(0, empty.ExampleCount);
        Assert.Empty((await Store.GetDatasetExamplesAsync("acme", "empty", DatasetSplit.All))!);

        Assert.True(await Store.DeleteDatasetAsync("acme", "v1"));
        Assert.False(await Store.DeleteDatasetAsync("acme", "v1"));
        Assert.Null(await Store.GetDatasetExamplesAsync("acme", "v1", DatasetSplit.All));
        // The name is free again, with no examples left behind.
        await Store.CreateDatasetAsync(new NewDataset("acme", "v1", "again", [examples[1]]));
        Assert.Single((await Store.GetDatasetExamplesAsync("acme", "v1", DatasetSplit.All))!);
    }

    private partial Task IsolationAttemptsBeyondTheStoreAsync(IReadOnlyList<string> acmeRecordIds, Action<bool> count) => Task.CompletedTask;
}
