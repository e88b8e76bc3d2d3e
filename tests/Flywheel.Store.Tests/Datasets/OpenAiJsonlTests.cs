using Flywheel.Store.Datasets;
using Flywheel.Testing;

namespace Flywheel.Store.Tests.Datasets;

public class OpenAiJsonlTests
{
    private static string Write(string content)
    {
        var path = Path.Combine(TestPaths.TempDir(), "data.jsonl");
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task Export_then_import_gives_the_same_examples()
    {
        var examples = new List<DatasetExample>
        {
            new("""[{"role":"system","content":"Be brief."},{"role":"user","content":"法国的首都是哪里？"},{"role":"assistant","content":"巴黎。\n就这样。"}]""", DatasetSplit.Train),
            new("""[{"role":"user","content":"weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"sunny"},{"role":"assistant","content":"Sunny."}]""", DatasetSplit.Train),
        };
        var writer = new StringWriter();
        Assert.Equal(2, await OpenAiJsonl.WriteAsync(examples, writer));
        string text = writer.ToString();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("{\"messages\":[", lines[0], StringComparison.Ordinal);
        Assert.Contains("法国的首都是哪里？", lines[0], StringComparison.Ordinal);
        var back = OpenAiJsonl.Read(Write(text));
        Assert.Equal(examples.Select(e => e.MessagesJson), back.Select(e => e.MessagesJson));
        Assert.All(back, e => Assert.Null(e.RecordId));
    }

    [Theory]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}]}\n{\"messages\": [", 2, "not valid JSON")]
    [InlineData("[1,2]", 1, "expected an object")]
    [InlineData("{\"prompt\":\"a\",\"completion\":\"b\"}", 1, "only \"messages\" is supported, found \"prompt\"")]
    [InlineData("{}", 1, "no \"messages\"")]
    [InlineData("\n\n{\"messages\":[]}", 3, "non-empty")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}", 1, "at least one assistant message")]
    [InlineData("{\"messages\":[{\"role\":\"wizard\",\"content\":\"a\"}]}", 1, "messages[0] needs a role")]
    [InlineData("{\"messages\":[{\"role\":\"user\"},{\"role\":\"assistant\",\"content\":\"b\"}]}", 1, "messages[0] has no content")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":5},{\"role\":\"assistant\",\"content\":\"b\"}]}", 1, "content must be a string")]
    [InlineData("\n  \n", 2, "holds no examples")]
    public void A_bad_line_is_named(string content, int line, string problem)
    {
        var e = Assert.Throws<DatasetFormatException>(() => OpenAiJsonl.Read(Write(content)));
        Assert.Equal(line, e.Line);
        Assert.Contains($"data.jsonl line {line}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_is_named()
    {
        var path = Path.Combine(TestPaths.TempDir(), "bad.jsonl");
        File.WriteAllBytes(path, [(byte)'{', 0xff, 0xfe, (byte)'}', (byte)'\n']);
        var e = Assert.Throws<DatasetFormatException>(() => OpenAiJsonl.Read(path));
        Assert.Contains("not valid UTF-8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_split_is_deterministic_and_near_the_fraction()
    {
        int test = 0;
        for (int i = 0; i < 10000; i++)
        {
            var split = SplitAssigner.Assign($"chatcmpl-{i}", 0.1);
            Assert.Equal(split, SplitAssigner.Assign($"chatcmpl-{i}", 0.1));
            if (split == DatasetSplit.Test) test++;
        }
        Assert.InRange(test, 900, 1100);
        Assert.Equal(DatasetSplit.Train, SplitAssigner.Assign("x", 0));
        Assert.Equal(DatasetSplit.Test, SplitAssigner.Assign("x", 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SplitAssigner.Assign("x", 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => SplitAssigner.Assign("x", -0.1));
    }
}
