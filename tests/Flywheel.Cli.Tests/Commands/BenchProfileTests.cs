using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

/// <summary><c>FLYWHEEL_PROFILE=pp|tg flywheel bench</c>: where the measured runs spent their time, and its one error.</summary>
public class BenchProfileTests
{
    private static readonly string Model = TestPaths.SharedFile("models", "tiny", "tiny-qwen2-q8_0.gguf");

    [Theory]
    [InlineData("pp")]
    [InlineData("tg")]
    public void Profile_names_the_ops_of_the_profiled_phase(string phase)
    {
        var r = CliRunner.RunWith(null, new Dictionary<string, string?> { ["FLYWHEEL_PROFILE"] = phase },
            "bench", "--model", Model, "--threads", "1", "--pp", "8", "--tg", "4", "--reps", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"profile of the measured {phase} runs", r.Stdout);
        foreach (var op in new[] { "MatMul Q8_0", "Attention", "RmsNorm", "Rope", "SwiGlu", "outside kernels" }) Assert.Contains(op, r.Stdout);
        // Embedding lookups: 8 per measured prefill, 4 per measured decode run (one each step); the warm-up is not counted.
        Assert.Matches(phase == "pp" ? @"GetRows\s+[0-9.]+ ms\s+[0-9.]+%\s+8 calls" : @"GetRows\s+[0-9.]+ ms\s+[0-9.]+%\s+4 calls", r.Stdout);
    }

    [Fact]
    public void Unknown_phase_is_a_one_line_error()
    {
        var r = CliRunner.RunWith(null, new Dictionary<string, string?> { ["FLYWHEEL_PROFILE"] = "all" },
            "bench", "--model", Model, "--pp", "8", "--tg", "0", "--reps", "1");
        RunCommandTests.AssertOneLineError(r, "FLYWHEEL_PROFILE takes pp or tg, not 'all'");
    }
}
