using System.Text.Json;
using Flywheel.Formats.Gguf;
using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

/// <summary><c>flywheel run</c> against llama.cpp's greedy outputs, and its one-line errors.</summary>
public class RunCommandTests
{
    private static string Stories => TestPaths.SharedFile("models", "stories260K", "stories260K.gguf");

    [Fact]
    public void Greedy_raw_story_matches_llama_simple()
    {
        // ../shared/models/stories260K/README.md: llama-simple -n 48 "Once upon a time" (greedy, BOS added).
        var readme = File.ReadAllText(TestPaths.SharedFile("models", "stories260K", "README.md"));
        var marker = "### prompt: Once upon a time\n<s> ";
        var start = readme.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        var expected = readme[start..readme.IndexOf('\n', start)];

        var r = CliRunner.Run("run", "--model", Stories, "--raw", "--prompt", "Once upon a time", "--temperature", "0", "--max-tokens", "48");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(expected.TrimEnd(), ("Once upon a time" + r.Stdout).TrimEnd());
    }

    [Theory]
    [InlineData("reference")]
    [InlineData("avx2")]
    [InlineData("avx512")]
    public void Threads_bound_every_kernel_set_without_changing_the_story(string kernels)
    {
        // --threads sizes the SIMD pools and the reference's Parallel.For alike (no CPU affinity is set), and row
        // partitioning never changes a result.
        var env = new Dictionary<string, string?> { ["FLYWHEEL_KERNELS"] = kernels };
        string[] args = ["run", "--model", Stories, "--raw", "--prompt", "Once upon a time", "--temperature", "0", "--max-tokens", "24"];
        var one = CliRunner.RunWith(null, env, [.. args, "--threads", "1"]);
        var two = CliRunner.RunWith(null, env, [.. args, "--threads", "2"]);
        Assert.True(one.ExitCode == 0, one.Stderr);
        Assert.True(two.ExitCode == 0, two.Stderr);
        Assert.Equal(one.Stdout, two.Stdout);
        Assert.True(one.Stdout.Length > 20, one.Stdout);
    }

    public static TheoryData<string, int> TinyPrompts()
    {
        var data = new TheoryData<string, int>();
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "tiny", "reference.json")));
        foreach (var m in doc.RootElement.GetProperty("models").EnumerateObject())
        {
            for (var i = 0; i < m.Value.GetProperty("greedy").GetArrayLength(); i++) data.Add(m.Name, i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(TinyPrompts))]
    public void Greedy_ids_match_llama_cpp_on_the_tiny_models(string file, int prompt)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "tiny", "reference.json")));
        var entry = doc.RootElement.GetProperty("models").GetProperty(file).GetProperty("greedy")[prompt];
        var expected = entry.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var r = CliRunner.Run("run", "-m", TestPaths.SharedFile("models", "tiny", file), "--raw", "--ids", "--temperature", "0",
            "--max-tokens", expected.Length.ToString(), "--prompt", entry.GetProperty("prompt").GetString()!);
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Equal(expected, JsonSerializer.Deserialize<int[]>(lines[0]));
    }

    [Fact]
    public void Chat_template_is_applied_unless_raw()
    {
        // The tiny models carry no template: give a copy of one a ChatML template, then the chat prompt
        // (<|im_start|>user ... <|im_start|>assistant) differs from the raw text, and so does the reply.
        var source = TestPaths.SharedFile("models", "tiny", "tiny-qwen3-q8_0.gguf");
        const string chatMl = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
        var model = Copy(source, w => w.Set(GgufKeys.ChatTemplate, chatMl), skipTensor: null, renameFrom: null);
        var plain = CliRunner.Run("run", "-m", source, "-p", "Hello", "--ids", "--temperature", "0", "-n", "8");
        var chat = CliRunner.Run("run", "-m", model, "-p", "Hello", "--ids", "--temperature", "0", "-n", "8");
        var raw = CliRunner.Run("run", "-m", model, "-p", "Hello", "--ids", "--temperature", "0", "-n", "8", "--raw");
        Assert.Equal(0, chat.ExitCode);
        Assert.Equal(0, raw.ExitCode);
        Assert.NotEqual(raw.Stdout, chat.Stdout);
        // Without a template the message is the prompt as it stands, which is what --raw gives.
        Assert.Equal(raw.Stdout, plain.Stdout);
    }

    public static TheoryData<string[], string> BadArguments() => new()
    {
        { ["--temperature", "-1"], "--temperature" },
        { ["--top-p", "2"], "--top-p" },
        { ["--top-p", "0"], "--top-p" },
        { ["--min-p", "1.5"], "--min-p" },
        { ["--top-k", "-1"], "--top-k" },
        { ["--repeat-penalty", "0"], "--repeat-penalty" },
        { ["--max-tokens", "-5"], "--max-tokens" },
        { ["--ctx", "1"], "--ctx" },
        { ["--threads", "0"], "--threads" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void Out_of_range_sampling_parameters_are_one_line_errors(string[] extra, string named)
    {
        var r = CliRunner.Run(["run", "-m", Stories, "-p", "Once", .. extra]);
        AssertOneLineError(r, named);
    }

    [Fact]
    public void Prompt_longer_than_the_context_is_a_one_line_error()
    {
        var r = CliRunner.Run("run", "-m", Stories, "--raw", "--ctx", "32", "-p", string.Join(' ', Enumerable.Repeat("Once upon a time", 20)));
        AssertOneLineError(r, "maximum context length is 32 tokens");
    }

    [Fact]
    public void Missing_model_is_a_one_line_error()
    {
        AssertOneLineError(CliRunner.Run("run", "-m", Path.Combine(TestPaths.TempDir(), "nothing.gguf"), "-p", "x"), "model not found");
    }

    [Fact]
    public void Unsupported_architecture_is_named()
    {
        var path = Copy(Stories, w => w.Set(GgufKeys.Architecture, "gpt9000"), skipTensor: null, renameFrom: "llama");
        AssertOneLineError(CliRunner.Run("run", "-m", path, "-p", "x"), "gpt9000");
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        var path = Copy(Stories, _ => { }, skipTensor: "blk.1.ffn_down.weight", renameFrom: null);
        AssertOneLineError(CliRunner.Run("run", "-m", path, "-p", "x"), "blk.1.ffn_down.weight");
    }

    internal static void AssertOneLineError(CliRunner.Result r, string contains)
    {
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{r.Stderr}");
        Assert.StartsWith("flywheel: error: ", lines[0]);
        Assert.Contains(contains, lines[0]);
    }

    /// <summary>A copy of a GGUF file with its metadata edited and optionally one tensor left out.</summary>
    private static string Copy(string sourcePath, Action<GgufWriter> edit, string? skipTensor, string? renameFrom)
    {
        var bytes = File.ReadAllBytes(sourcePath);
        using var source = GgufFile.Open(sourcePath);
        var writer = new GgufWriter();
        foreach (var key in source.MetadataKeys)
        {
            // The hyperparameters live under the architecture's name (llama.context_length): move them along.
            var name = renameFrom is not null && key.StartsWith(renameFrom + ".", StringComparison.Ordinal) ? "gpt9000." + key[(renameFrom.Length + 1)..] : key;
            writer.Set(name, source.Metadata[key]);
        }
        edit(writer);
        foreach (var t in source.Tensors)
        {
            if (t.Name == skipTensor) continue;
            writer.AddTensor(t.Name, t.Type, t.Shape, bytes.AsMemory(checked((int)(source.DataOffset + t.Offset)), checked((int)t.ByteSize)));
        }
        var path = Path.Combine(TestPaths.TempDir(), Path.GetFileName(sourcePath));
        writer.Save(path);
        return path;
    }
}
