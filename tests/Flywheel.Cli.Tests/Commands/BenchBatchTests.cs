using System.Globalization;
using System.Text.Json;
using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

/// <summary><c>flywheel bench --batch N</c>: N sequences decoded together, their aggregate rate in text and JSON.</summary>
public class BenchBatchTests
{
    private static readonly string Model = TestPaths.SharedFile("models", "tiny", "tiny-qwen2-q8_0.gguf");

    [Fact]
    public void Batch_reports_the_aggregate_rate_in_text_and_json()
    {
        var r = CliRunner.Run("bench", "--model", Model, "--threads", "1", "--pp", "0", "--tg", "4", "--reps", "1", "--batch", "3", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Trim().Split('\n');
        using var json = JsonDocument.Parse(lines[^1]);
        Assert.Equal(3, json.RootElement.GetProperty("batch").GetInt32());
        var rate = json.RootElement.GetProperty("batch_tg_tok_s").GetDouble();
        Assert.True(rate > 0, $"batch rate {rate}");
        var text = lines.Single(l => l.StartsWith("batch 3: ", StringComparison.Ordinal));
        var printed = double.Parse(text["batch 3: ".Length..].Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.Equal(Math.Round(rate, 2), printed, 2);
    }

    [Fact]
    public void Negative_batch_is_a_one_line_error()
    {
        var r = CliRunner.Run("bench", "--model", Model, "--pp", "0", "--tg", "4", "--reps", "1", "--batch", "-1");
        RunCommandTests.AssertOneLineError(r, "--batch must not be negative, got -1");
    }
}
