using Flywheel.Store.Datasets;
using Flywheel.Store.Feedback;
using Flywheel.Store.Traffic;

namespace Flywheel.Store.Tests;

public abstract partial class StoreContractTests
{
    [ProviderFact]
    public async Task A_record_reads_back_field_for_field()
    {
        var chat = Record("acme") with { ToolCallsJson = """[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]""", FinishReason = "tool_calls" };
        var completion = Record("acme", kind: TrafficKind.Completion) with { Adapter = null, ParametersJson = null, OutputText = null, ReasoningText = null };
        Assert.NotNull(chat.ReasoningText);
        Assert.Null(completion.ReasoningText);
        await Store.WriteTrafficAsync([chat, completion]);
        Assert.Equal(chat, await Store.GetTrafficAsync("acme", chat.Id));
        Assert.Equal(completion, await Store.GetTrafficAsync("acme", completion.Id));
        Assert.StartsWith("chatcmpl-", chat.Id, StringComparison.Ordinal);
        Assert.StartsWith("cmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Equal(2, await Store.CountTrafficAsync("acme"));
        Assert.Null(await Store.GetTrafficAsync("acme", "chatcmpl-unknown"));
    }

    [ProviderFact]
    public async Task A_batch_larger_than_one_insert_statement_round_trips_in_order()
    {
        // 150 rows span three multi-row INSERT statements; every other row has its nullable columns null.
        var records = Enumerable.Range(0, 150).Select(i => i % 2 == 0
            ? Record("acme", at: DateTimeOffset.UnixEpoch.AddSeconds(i))
            : Record("acme", output: null, at: DateTimeOffset.UnixEpoch.AddSeconds(i)) with { Adapter = null, ParametersJson = null, FinishReason = null }).ToList();
        await Store.WriteTrafficAsync(records);
        Assert.Equal(records, (await Store.QueryExchangesAsync("acme")).Select(e => e.Record));

        var examples = records.Select((r, i) => new DatasetExample(
            $$"""[{"role":"user","content":"q{{i}}"},{"role":"assistant","content":"a{{i}}"}]""", i % 3 == 0 ? DatasetSplit.Test : DatasetSplit.Train, i % 2 == 0 ? r.Id : null)).ToList();
        var info = await Store.CreateDatasetAsync(new NewDataset("acme", "big", "test", examples));
        Assert.Equal((100, 50), (info.TrainCount, info.TestCount));
        Assert.Equal(examples, await Store.GetDatasetExamplesAsync("acme", "big", DatasetSplit.All));
    }

    [ProviderFact]
    public async Task Chinese_text_round_trips()
    {
        var r = Record("acme", output: "巴黎是法国的首都。", user: "法国的首都是哪里？");
        await Store.WriteTrafficAsync([r]);
        Assert.Equal(r, await Store.GetTrafficAsync("acme", r.Id));
    }

    [ProviderFact]
    public async Task A_duplicate_id_fails_the_whole_batch()
    {
        var first = Record("acme");
        await Store.WriteTrafficAsync([first]);
        var fresh = Record("acme");
        var e = await Assert.ThrowsAsync<StoreException>(() => Store.WriteTrafficAsync([fresh, first with { OutputText = "again" }]));
        Assert.Contains(first.Id, e.Message, StringComparison.Ordinal);
        Assert.Null(await Store.GetTrafficAsync("acme", fresh.Id));
        Assert.Equal("Paris.", (await Store.GetTrafficAsync("acme", first.Id))!.OutputText);
    }

    [ProviderFact]
    public async Task Exchanges_come_oldest_first_from_the_since_date_with_their_latest_feedback()
    {
        var t0 = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var old = Record("acme", at: t0);
        var mid = Record("acme", at: t0.AddDays(1));
        var late = Record("acme", at: t0.AddDays(2));
        await Store.WriteTrafficAsync([late, old, mid]);
        Assert.Equal([old.Id, mid.Id, late.Id], (await Store.QueryExchangesAsync("acme")).Select(e => e.Record.Id));
        Assert.Equal([mid.Id, late.Id], (await Store.QueryExchangesAsync("acme", t0.AddDays(1))).Select(e => e.Record.Id));

        Assert.Equal(FeedbackOutcome.Stored, (await Store.AddFeedbackAsync("acme", new FeedbackInput(mid.Id, Rating: 2))).Outcome);
        await Task.Delay(5);
        await Store.AddFeedbackAsync("acme", new FeedbackInput(mid.Id, Correction: Correction.FromText("Paris, on the Seine.")));
        await Task.Delay(5);
        await Store.AddFeedbackAsync("acme", new FeedbackInput(mid.Id, Rating: FeedbackRatings.Up, Comment: "better now"));
        var exchanges = await Store.QueryExchangesAsync("acme");
        var m = exchanges.Single(e => e.Record.Id == mid.Id);
        Assert.Equal(5, m.Rating);
        Assert.True(m.IsCorrected);
        Assert.Equal("Paris, on the Seine.", m.Correction!.Text);
        var o = exchanges.Single(e => e.Record.Id == old.Id);
        Assert.Null(o.Rating);
        Assert.False(o.IsCorrected);
    }

    [ProviderFact]
    public async Task Feedback_is_stored_listed_and_validated()
    {
        var r = Record("acme");
        await Store.WriteTrafficAsync([r]);
        var messages = """[{"role":"assistant","content":"Paris."}]""";
        var result = await Store.AddFeedbackAsync("acme", new FeedbackInput(r.Id, 4, Correction.FromMessages(messages), "fine"));
        Assert.Equal(FeedbackOutcome.Stored, result.Outcome);
        var listed = Assert.Single(await Store.ListFeedbackAsync("acme", r.Id));
        Assert.Equal(4, listed.Rating);
        Assert.Equal(messages, listed.Correction!.MessagesJson);
        Assert.Null(listed.Correction.Text);
        Assert.Equal("fine", listed.Comment);
        Assert.Equal(result.Feedback!.Id, listed.Id);

        Assert.Equal(FeedbackOutcome.UnknownRecord, (await Store.AddFeedbackAsync("acme", new FeedbackInput("chatcmpl-nope", 5))).Outcome);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.AddFeedbackAsync("acme", new FeedbackInput(r.Id, 0)));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.AddFeedbackAsync("acme", new FeedbackInput(r.Id, 6)));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.AddFeedbackAsync("acme", new FeedbackInput(r.Id)));
        Assert.Throws<ArgumentException>(() => Correction.FromMessages("""[{"role":"robot","content":"x"}]"""));
        Assert.Throws<ArgumentException>(() => Correction.FromMessages("""{"role":"assistant"}"""));
        Assert.Throws<ArgumentException>(() => Correction.FromMessages("not json"));
        Assert.Single(await Store.ListFeedbackAsync("acme", r.Id));
    }

    [ProviderFact]
    public async Task Feedback_is_durable_when_the_call_returns()
    {
        var r = Record("acme");
        await Store.WriteTrafficAsync([r]);
        await Store.AddFeedbackAsync("acme", new FeedbackInput(r.Id, FeedbackRatings.Down, Comment: "wrong"));
        // A second, independent store instance (another process would see the same) reads it at once.
        await using var other = await ReopenAsync();
        Assert.Equal(1, Assert.Single(await other.ListFeedbackAsync("acme", r.Id)).Rating);
    }
}
