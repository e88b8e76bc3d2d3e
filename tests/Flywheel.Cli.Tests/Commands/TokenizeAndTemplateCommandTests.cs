using System.Text.Json;
using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

/// <summary>The tokenize and template commands, run as a user runs them, against the shared test vectors and goldens.</summary>
public class TokenizeAndTemplateCommandTests
{
    [Fact]
    public void Tokenize_ids_match_the_vocabulary_test_vectors()
    {
        var vocab = TestPaths.SharedFile("testdata", "vocab", "ggml-vocab-qwen2.gguf");
        var inputs = File.ReadAllText(vocab + ".inp").Split("\n__ggml_vocab_test__\n");
        var expected = File.ReadAllLines(vocab + ".out");
        // A handful of the vectors, Chinese among them, through the real command line.
        foreach (var i in new[] { 1, 5, 20, inputs.Length - 2 })
        {
            var text = inputs[i];
            var file = Path.Combine(TestPaths.TempDir(), "in.txt");
            File.WriteAllText(file, text);
            var r = CliRunner.Run("tokenize", "--model", vocab, "--text-file", file, "--ids");
            Assert.Equal(0, r.ExitCode);
            var ids = JsonSerializer.Deserialize<int[]>(r.Stdout.Trim())!;
            var want = expected[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            Assert.Equal(want, ids);
        }
    }

    [Fact]
    public void Tokenize_parses_special_tokens_only_when_asked()
    {
        var vocab = TestPaths.SharedFile("testdata", "vocab", "ggml-vocab-qwen2.gguf");
        var plain = CliRunner.Run("tokenize", "--model", vocab, "--text", "<|im_start|>你好", "--ids");
        var special = CliRunner.Run("tokenize", "--model", vocab, "--text", "<|im_start|>你好", "--special", "--ids");
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(0, special.ExitCode);
        var plainIds = JsonSerializer.Deserialize<int[]>(plain.Stdout.Trim())!;
        var specialIds = JsonSerializer.Deserialize<int[]>(special.Stdout.Trim())!;
        Assert.Equal(151644, specialIds[0]);
        Assert.DoesNotContain(151644, plainIds);
        Assert.True(plainIds.Length > specialIds.Length);
    }

    [Fact]
    public void Template_renders_the_golden_prompt_byte_for_byte()
    {
        var fixtures = Path.Combine(TestPaths.RepoRoot, "tests", "Flywheel.Tokenizers.Tests", "ChatTemplates", "Fixtures");
        var expectedDir = Path.Combine(fixtures, "expected", "qwen2.5");
        var golden = Directory.GetFiles(expectedDir).First(f => Path.GetFileNameWithoutExtension(f) == "chinese");
        var r = CliRunner.Run("template",
            "--template", TestPaths.SharedFile("testdata", "templates", "Qwen-Qwen2.5-7B-Instruct.jinja"),
            "--messages", Path.Combine(fixtures, "conversations", "chinese.json"));
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(File.ReadAllText(golden), r.Stdout);
    }

    [Fact]
    public void Template_errors_exit_2_with_one_line()
    {
        var dir = TestPaths.TempDir();
        var bad = Path.Combine(dir, "bad.jinja");
        File.WriteAllText(bad, "{% for m in messages %}{{ m.content }");
        var messages = Path.Combine(dir, "m.json");
        File.WriteAllText(messages, "[{\"role\": \"user\", \"content\": \"hi\"}]");
        var r = CliRunner.Run("template", "--template", bad, "--messages", messages);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }
}
