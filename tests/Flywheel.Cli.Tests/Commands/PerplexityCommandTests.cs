using System.Globalization;
using System.Text.Json;
using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

/// <summary><c>flywheel perplexity</c> with a 128-token context against llama-perplexity's figures.</summary>
public class PerplexityCommandTests
{
    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "tiny", "reference.json")));
        foreach (var m in doc.RootElement.GetProperty("models").EnumerateObject()) data.Add(m.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Ctx128_is_within_half_a_percent_of_llama_perplexity(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "tiny", "reference.json")));
        var expected = doc.RootElement.GetProperty("models").GetProperty(file).GetProperty("perplexity_ctx128").GetDouble();
        var r = CliRunner.Run("perplexity", "--model", TestPaths.SharedFile("models", "tiny", file),
            "--file", TestPaths.SharedFile("models", "tiny", "text.txt"), "--ctx", "128");
        Assert.Equal(0, r.ExitCode);
        var last = r.Stdout.TrimEnd().Split('\n')[^1];
        Assert.StartsWith("perplexity: ", last);
        var value = double.Parse(last["perplexity: ".Length..], CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(value - expected) / expected <= 0.005, $"{file}: {value} vs llama-perplexity {expected}");
        Assert.Contains("[1/", r.Stdout); // progress per chunk
    }

    [Fact]
    public void Text_shorter_than_one_chunk_is_a_one_line_error()
    {
        var text = Path.Combine(TestPaths.TempDir(), "short.txt");
        File.WriteAllText(text, "Once upon a time.");
        var r = CliRunner.Run("perplexity", "-m", TestPaths.SharedFile("models", "stories260K", "stories260K.gguf"), "-f", text, "--ctx", "64");
        RunCommandTests.AssertOneLineError(r, "fewer than one chunk");
    }
}
