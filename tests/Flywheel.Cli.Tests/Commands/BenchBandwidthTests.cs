using System.Globalization;
using System.Text.Json;

namespace Flywheel.Cli.Tests.Commands;

/// <summary><c>flywheel bench --bandwidth</c>: a figure per repetition, their median in the JSON line, and its errors.</summary>
public class BenchBandwidthTests
{
    [Fact]
    public void Bandwidth_reports_the_median_of_the_repetitions()
    {
        var r = CliRunner.Run("bench", "--bandwidth", "--threads", "1", "--buffer-mib", "64", "--reps", "3", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.TrimEnd().Split('\n');
        using var json = JsonDocument.Parse(lines[^1]);
        var root = json.RootElement;
        var reps = root.GetProperty("reps_gb_s").EnumerateArray().Select(e => e.GetDouble()).Order().ToArray();
        Assert.Equal(3, reps.Length);
        Assert.All(reps, x => Assert.True(x > 0.1, $"{x} GB/s"));
        Assert.Equal(reps[1], root.GetProperty("bandwidth_gb_s").GetDouble(), 0.001);
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.Equal(64L * 1048576, root.GetProperty("buffer_bytes").GetInt64());
        Assert.Contains(root.GetProperty("vector_bits").GetInt32(), new[] { 256, 512 });
        // The text line rounds to 2 decimals and the JSON to 3, so compare the numbers, not the strings.
        var text = System.Text.RegularExpressions.Regex.Match(r.Stdout, @"memory read bandwidth: ([0-9.]+) GB/s");
        Assert.True(text.Success, r.Stdout);
        Assert.Equal(root.GetProperty("bandwidth_gb_s").GetDouble(), double.Parse(text.Groups[1].Value, CultureInfo.InvariantCulture), 0.0051);
    }

    [Theory]
    [InlineData(new[] { "--bandwidth", "--model", "x.gguf" }, "leave out --model")]
    [InlineData(new[] { "--bandwidth", "--buffer-mib", "0" }, "--buffer-mib must be at least 1")]
    [InlineData(new[] { "--pp", "8" }, "--model is required (or --bandwidth)")]
    public void Bad_arguments_are_one_line_errors(string[] args, string message) =>
        RunCommandTests.AssertOneLineError(CliRunner.Run(["bench", .. args]), message);
}
