using Flywheel.Formats.Gguf;
using Flywheel.Models.Tests.Fixtures;
using Flywheel.Testing;
using Xunit.Abstractions;

namespace Flywheel.Models.Tests;

/// <summary>
/// stories260K (a real trained tiny Llama, F32; the converter stored the tied output matrix as output.weight): greedy continuations must equal llama.cpp's
/// llama-simple output recorded in ../shared/models/stories260K/README.md (BOS added, 48 new tokens).
/// </summary>
public sealed class Stories260KTests(ITestOutputHelper output)
{
    private static string ModelPath => TestPaths.SharedFile("models", "stories260K", "stories260K.gguf");

    public static TheoryData<string, string> Cases()
    {
        // README blocks: "### prompt: P" followed by the line llama-simple printed, "<s> " + prompt + continuation.
        var readme = File.ReadAllText(TestPaths.SharedFile("models", "stories260K", "README.md"));
        var data = new TheoryData<string, string>();
        foreach (var block in readme.Split("### prompt: ").Skip(1))
        {
            var newline = block.IndexOf('\n');
            var prompt = block[..newline].Trim();
            var rest = block[(newline + 1)..];
            var end = new[] { rest.IndexOf("\n\n", StringComparison.Ordinal), rest.IndexOf("```", StringComparison.Ordinal) }
                .Where(i => i >= 0).DefaultIfEmpty(rest.Length).Min();
            var text = rest[..end].TrimEnd('\n');
            data.Add(prompt, text);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Greedy_continuation_matches_llama_simple(string prompt, string expected)
    {
        using var model = Model.Load(ModelPath);
        var tokenizer = new MiniSentencePiece(model.GgufFile!);
        int[] ids = [model.Config.BosTokenId!.Value, .. tokenizer.Encode(prompt)];
        var session = model.CreateSession();
        var logits = session.Prefill(ids);
        var generated = new List<int>();
        for (var i = 0; i < 48; i++)
        {
            var next = LogitChecks.ArgMax(logits);
            generated.Add(next);
            logits = session.Decode(next);
        }
        var text = "<s>" + tokenizer.Decode(ids.Skip(1).Concat(generated));
        output.WriteLine(text);
        Assert.Equal(expected, text);
    }
}
