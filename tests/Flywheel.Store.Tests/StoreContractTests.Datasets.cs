using Flywheel.Store.Datasets;
using Flywheel.Store.Feedback;
using Flywheel.Store.Traffic;

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

    private async partial Task IsolationAttemptsBeyondTheStoreAsync(IReadOnlyList<string> acmeRecordIds, Action<bool> count)
    {
        // Build datasets as mallory with every filter shape: only mallory's own record may ever appear.
        foreach (var (where, i) in new[] { null, "rating >= 1 or corrected or not corrected", "rating = 5", "kind = chat" }.Select((w, i) => (w, i)))
        {
            var built = await DatasetBuilder.CreateAsync(Store, new DatasetBuildOptions("mallory", $"steal{i}", where, DateTimeOffset.UnixEpoch));
            var examples = await Store.GetDatasetExamplesAsync("mallory", $"steal{i}", DatasetSplit.All);
            count(built.Considered != 1 || examples!.Any(e => e.RecordId is { } id && acmeRecordIds.Contains(id)));
        }
        // Exporting "gold" as mallory gives mallory's own dataset of that name, never acme's examples.
        var writer = new StringWriter();
        await OpenAiJsonl.WriteAsync(await Store.GetDatasetExamplesAsync("mallory", "gold", DatasetSplit.All) ?? [], writer);
        count(writer.ToString().Contains("hello", StringComparison.Ordinal));
    }

    [ProviderFact]
    public async Task A_dataset_is_built_from_filtered_traffic_with_corrections_dedupe_and_a_split()
    {
        var t0 = DateTimeOffset.Parse("2026-03-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var good = Record("acme", output: "Paris.", user: "Capital of France?", at: t0.AddHours(1));
        var fixedUp = Record("acme", output: "Lyon.", user: "Capital of Italy?", at: t0.AddHours(2));
        var bad = Record("acme", output: "No idea.", user: "Capital of Spain?", at: t0.AddHours(3));
        var unrated = Record("acme", output: "Berlin.", user: "Capital of Germany?", at: t0.AddHours(4));
        var dup = Record("acme", output: "paris.", user: "capital of   FRANCE?", at: t0.AddHours(5));
        var old = Record("acme", output: "Tokyo.", user: "Capital of Japan?", at: t0.AddDays(-10));
        var completion = Record("acme", kind: TrafficKind.Completion, output: " there was a dragon.", user: "Once upon a time", at: t0.AddHours(6));
        await Store.WriteTrafficAsync([good, fixedUp, bad, unrated, dup, old, completion]);
        await Store.AddFeedbackAsync("acme", new FeedbackInput(good.Id, FeedbackRatings.Up));
        await Store.AddFeedbackAsync("acme", new FeedbackInput(fixedUp.Id, FeedbackRatings.Down, Correction.FromText("Rome.")));
        await Store.AddFeedbackAsync("acme", new FeedbackInput(bad.Id, FeedbackRatings.Down));
        await Store.AddFeedbackAsync("acme", new FeedbackInput(dup.Id, 4));
        await Store.AddFeedbackAsync("acme", new FeedbackInput(old.Id, 5));
        await Store.AddFeedbackAsync("acme", new FeedbackInput(completion.Id, 5));

        var result = await DatasetBuilder.CreateAsync(Store, new DatasetBuildOptions("acme", "gold", "rating >= 4 or corrected", t0, 0.5));
        Assert.Equal((6, 4, 0, 1), (result.Considered, result.Matched, result.Unusable, result.DuplicatesRemoved));
        var examples = (await Store.GetDatasetExamplesAsync("acme", "gold", DatasetSplit.All))!;
        // Chronological; the near-duplicate of "good" (lower rated) is dropped; the correction replaced Lyon.
        Assert.Equal([good.Id, fixedUp.Id, completion.Id], examples.Select(e => e.RecordId));
        Assert.Contains("\"content\":\"Rome.\"", examples[1].MessagesJson, StringComparison.Ordinal);
        Assert.DoesNotContain("Lyon", examples[1].MessagesJson, StringComparison.Ordinal);
        Assert.Equal("""[{"role":"user","content":"Once upon a time"},{"role":"assistant","content":" there was a dragon."}]""", examples[2].MessagesJson);
        Assert.All(examples, e => Assert.Equal(SplitAssigner.Assign(e.RecordId!, 0.5), e.Split));
        Assert.Equal(examples.Count(e => e.Split == DatasetSplit.Test), result.Dataset.TestCount);
        Assert.Equal("traffic, where rating >= 4 or corrected, since 2026-03-01T00:00:00Z, test fraction 0.5", result.Dataset.Source);

        // The same build again makes the same examples in the same splits.
        var again = await DatasetBuilder.CreateAsync(Store, new DatasetBuildOptions("acme", "gold2", "rating >= 4 or corrected", t0, 0.5));
        Assert.Equal(examples, await Store.GetDatasetExamplesAsync("acme", "gold2", DatasetSplit.All));

        var all = await DatasetBuilder.CreateAsync(Store, new DatasetBuildOptions("acme", "everything"));
        Assert.Equal((7, 7, 1), (all.Considered, all.Matched, all.DuplicatesRemoved));
        Assert.Equal(6, all.Dataset.TrainCount);

        await Assert.ThrowsAsync<StoreException>(() => DatasetBuilder.CreateAsync(Store, new DatasetBuildOptions("acme", "gold")));
        await Assert.ThrowsAsync<FilterSyntaxException>(() => DatasetBuilder.CreateAsync(Store, new DatasetBuildOptions("acme", "x", "rating >>= 4")));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => DatasetBuilder.CreateAsync(Store, new DatasetBuildOptions("acme", "x", TestFraction: 2)));
    }
}
