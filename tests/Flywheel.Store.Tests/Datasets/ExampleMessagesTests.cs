using Flywheel.Store.Datasets;
using Flywheel.Store.Feedback;
using Flywheel.Store.Traffic;

namespace Flywheel.Store.Tests.Datasets;

public class ExampleMessagesTests
{
    private static TrafficRecord Chat(string? output, string? toolCalls = null) => new()
    {
        Id = "chatcmpl-1", Tenant = "acme", Kind = TrafficKind.Chat, Model = "m",
        RequestJson = """[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"}]""",
        OutputText = output, ToolCallsJson = toolCalls, CreatedAt = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public void The_answer_is_appended_to_the_request()
    {
        Assert.Equal("""[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"},{"role":"assistant","content":"Lyon."}]""",
            ExampleMessages.From(new CapturedExchange(Chat("Lyon."), 1, null)));
    }

    [Fact]
    public void Reasoning_stays_out_of_the_example()
    {
        // OpenAI's chat fine-tuning format has no field for it: the example is the answer alone.
        Assert.Equal("""[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"},{"role":"assistant","content":"Lyon."}]""",
            ExampleMessages.From(new CapturedExchange(Chat("Lyon.") with { ReasoningText = "France's capital? I think Lyon." }, 1, null)));
    }

    [Fact]
    public void Abandoned_and_failed_requests_make_no_example_unless_corrected()
    {
        foreach (var finish in new[] { TrafficRecord.Abandoned, TrafficRecord.Failed })
        {
            Assert.Null(ExampleMessages.From(new CapturedExchange(Chat("Ly") with { FinishReason = finish }, null, null)));
            Assert.Contains("Paris.", ExampleMessages.From(new CapturedExchange(Chat("Ly") with { FinishReason = finish }, 1, Correction.FromText("Paris."))));
        }
    }

    [Fact]
    public void A_text_correction_replaces_the_answer()
    {
        Assert.Equal("""[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"},{"role":"assistant","content":"Paris."}]""",
            ExampleMessages.From(new CapturedExchange(Chat("Lyon."), 1, Correction.FromText("Paris."))));
    }

    [Fact]
    public void A_messages_correction_replaces_the_answer_or_the_whole_conversation()
    {
        var answerOnly = Correction.FromMessages("""[{"role":"assistant","content":"Paris, of course."}]""");
        Assert.Equal("""[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"},{"role":"assistant","content":"Paris, of course."}]""",
            ExampleMessages.From(new CapturedExchange(Chat("Lyon."), null, answerOnly)));
        const string whole = """[{"role":"user","content":"France's capital?"},{"role":"assistant","content":"Paris."}]""";
        Assert.Equal(whole, ExampleMessages.From(new CapturedExchange(Chat("Lyon."), null, Correction.FromMessages(whole))));
    }

    [Fact]
    public void Tool_calls_are_kept_and_a_missing_answer_is_unusable()
    {
        const string calls = """[{"id":"c1","type":"function","function":{"name":"capital","arguments":"{\"country\":\"FR\"}"}}]""";
        string json = ExampleMessages.From(new CapturedExchange(Chat(null, calls), null, null))!;
        Assert.Contains("\"tool_calls\":[{\"id\":\"c1\"", json, StringComparison.Ordinal);
        Assert.Contains("\"content\":null", json, StringComparison.Ordinal);
        Assert.Null(ExampleMessages.From(new CapturedExchange(Chat(null), 5, null)));
        Assert.Null(ExampleMessages.From(new CapturedExchange(Chat("x") with { RequestJson = "not json" }, 5, null)));
    }

    [Fact]
    public void A_completion_prompt_becomes_a_user_message()
    {
        var record = Chat("there was a dragon.") with { Kind = TrafficKind.Completion, RequestJson = "\"Once upon a time\"" };
        Assert.Equal("""[{"role":"user","content":"Once upon a time"},{"role":"assistant","content":"there was a dragon."}]""",
            ExampleMessages.From(new CapturedExchange(record, null, null)));
        Assert.NotNull(ExampleMessages.From(new CapturedExchange(record with { RequestJson = "[\"Once\"]" }, null, null)));
        Assert.Null(ExampleMessages.From(new CapturedExchange(record with { RequestJson = "[\"a\",\"b\"]" }, null, null)));
    }
}
