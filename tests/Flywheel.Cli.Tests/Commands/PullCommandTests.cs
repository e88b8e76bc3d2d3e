using System.Security.Cryptography;
using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

/// <summary><c>flywheel pull</c> and hub ids in place of a model path, against a stand-in hub on 127.0.0.1.</summary>
public class PullCommandTests
{
    private static byte[] Stories => File.ReadAllBytes(TestPaths.SharedFile("models", "stories260K", "stories260K.gguf"));

    private static byte[] Noise(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static (string Home, Dictionary<string, string?> Env) Home(StandInHub? hub = null)
    {
        var home = TestPaths.TempDir();
        return (home, new Dictionary<string, string?> { ["FLYWHEEL_HOME"] = home, ["HF_ENDPOINT"] = hub?.Endpoint ?? "http://127.0.0.1:9", ["HF_TOKEN"] = null });
    }

    [Fact]
    public void Quant_tag_picks_one_gguf_which_is_downloaded_and_hash_checked()
    {
        using var hub = new StandInHub()
            .Add("test-org/tiny-GGUF", "tiny-Q4_K_M.gguf", Stories)
            .Add("test-org/tiny-GGUF", "tiny-Q8_0.gguf", Noise(5000, 1))
            .Add("test-org/tiny-GGUF", "README.md", "# tiny\n"u8.ToArray(), lfs: false);
        var (home, env) = Home();
        var r = CliRunner.RunWith(null, env, "pull", "test-org/tiny-GGUF:q4_k_m", "--endpoint", hub.Endpoint);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var target = Path.Combine(home, "models", "test-org", "tiny-GGUF", "tiny-Q4_K_M.gguf");
        Assert.Equal(target, r.Stdout.TrimEnd().Split('\n')[^1]);
        Assert.Equal(Stories, File.ReadAllBytes(target));
        Assert.False(File.Exists(Path.Combine(home, "models", "test-org", "tiny-GGUF", "tiny-Q8_0.gguf")));
        Assert.Empty(Directory.GetFiles(home, "*.partial", SearchOption.AllDirectories));

        // The pulled name now resolves locally: no request reaches the hub.
        var before = hub.Requests.Count;
        var run = CliRunner.RunWith(null, env, "run", "-m", "test-org/tiny-GGUF:Q4_K_M", "--raw", "-p", "Once upon a time", "--temperature", "0", "-n", "8");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.StartsWith(", there was a little girl", run.Stdout);
        Assert.Equal(before, hub.Requests.Count);
    }

    [Fact]
    public void Several_ggufs_without_a_tag_are_listed_and_nothing_is_downloaded()
    {
        using var hub = new StandInHub()
            .Add("test-org/two", "a-Q4_K_M.gguf", Noise(100, 2))
            .Add("test-org/two", "a-Q8_0.gguf", Noise(100, 3));
        var (home, env) = Home(hub);
        var r = CliRunner.RunWith(null, env, "pull", "test-org/two");
        RunCommandTests.AssertOneLineError(r, "a-Q4_K_M.gguf, a-Q8_0.gguf");
        Assert.False(Directory.Exists(Path.Combine(home, "models", "test-org", "two")));
        RunCommandTests.AssertOneLineError(CliRunner.RunWith(null, env, "pull", "test-org/two:Q6_K"), "no .gguf file matching 'Q6_K'");
    }

    [Fact]
    public void Interrupted_download_resumes_with_a_range_request()
    {
        var content = Noise(3 << 20, 4);
        using var hub = new StandInHub().Add("test-org/big", "big.gguf", content);
        hub.CutOnce("big.gguf");
        var (home, env) = Home(hub);
        var r = CliRunner.RunWith(null, env, "pull", "test-org/big");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(Path.Combine(home, "models", "test-org", "big", "big.gguf"))));
        var downloads = hub.Requests.Where(q => q.Path.EndsWith("/resolve/main/big.gguf", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, downloads.Count);
        Assert.Null(downloads[0].Range);
        Assert.Matches(@"^bytes=[1-9]\d*-$", downloads[1].Range);
        Assert.Contains("resuming at", r.Stdout);
    }

    [Fact]
    public void A_partial_file_left_by_an_earlier_run_is_resumed()
    {
        var content = Noise(200_000, 5);
        using var hub = new StandInHub().Add("test-org/part", "part.gguf", content);
        var (home, env) = Home(hub);
        var folder = Path.Combine(home, "models", "test-org", "part");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "part.gguf.partial"), content[..123_456]);
        var r = CliRunner.RunWith(null, env, "pull", "test-org/part");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(folder, "part.gguf")));
        Assert.Equal("bytes=123456-", hub.Requests.Single(q => q.Path.Contains("/resolve/", StringComparison.Ordinal)).Range);
    }

    [Fact]
    public void Sha256_mismatch_is_rejected_and_leaves_no_file()
    {
        using var hub = new StandInHub().Add("test-org/bad", "bad.gguf", Noise(10_000, 6), wrongSha256: new string('a', 64));
        var (home, env) = Home(hub);
        var r = CliRunner.RunWith(null, env, "pull", "test-org/bad");
        RunCommandTests.AssertOneLineError(r, "sha256");
        var folder = Path.Combine(home, "models", "test-org", "bad");
        Assert.False(File.Exists(Path.Combine(folder, "bad.gguf")));
        Assert.False(File.Exists(Path.Combine(folder, "bad.gguf.partial")));
    }

    [Fact]
    public void Unknown_repository_is_a_clear_error()
    {
        using var hub = new StandInHub();
        var (_, env) = Home(hub);
        RunCommandTests.AssertOneLineError(CliRunner.RunWith(null, env, "pull", "nobody/nothing"), "repository nobody/nothing not found");
        RunCommandTests.AssertOneLineError(CliRunner.RunWith(null, env, "pull", "not a repo"), "not a hub model id");
    }

    [Fact]
    public void Safetensors_repository_downloads_the_checkpoint_files_only()
    {
        using var hub = new StandInHub()
            .Add("test-org/st", "config.json", """{"model_type":"llama"}"""u8.ToArray(), lfs: false)
            .Add("test-org/st", "tokenizer.json", "{}"u8.ToArray(), lfs: false)
            .Add("test-org/st", "model-00001-of-00002.safetensors", Noise(1000, 7))
            .Add("test-org/st", "model-00002-of-00002.safetensors", Noise(1000, 8))
            .Add("test-org/st", "model.safetensors.index.json", "{}"u8.ToArray(), lfs: false)
            .Add("test-org/st", "README.md", "hi"u8.ToArray(), lfs: false)
            .Add("test-org/st", "onnx/model.onnx", Noise(100, 9));
        var (home, env) = Home(hub);
        var r = CliRunner.RunWith(null, env, "pull", "test-org/st");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var folder = Path.Combine(home, "models", "test-org", "st");
        Assert.Equal(folder, r.Stdout.TrimEnd().Split('\n')[^1]);
        Assert.Equal(
            ["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json"],
            Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_hub_id_given_to_run_is_pulled_on_first_use()
    {
        using var hub = new StandInHub().Add("test-org/stories", "stories260K.gguf", Stories);
        var (home, env) = Home(hub);
        var r = CliRunner.RunWith(null, env, "run", "-m", "test-org/stories", "--raw", "-p", "Once upon a time", "--temperature", "0", "-n", "8");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith(", there was a little girl", r.Stdout);
        Assert.Contains("pulling", r.Stderr);
        Assert.True(File.Exists(Path.Combine(home, "models", "test-org", "stories", "stories260K.gguf")));
    }

    [Fact]
    public void Serve_resolves_models_through_the_same_resolver()
    {
        using var hub = new StandInHub();
        var (_, env) = Home(hub);
        RunCommandTests.AssertOneLineError(CliRunner.RunWith(null, env, "serve", "--model", "nobody/nothing:Q4_K_M", "--port", "0"), "repository nobody/nothing not found");
        RunCommandTests.AssertOneLineError(CliRunner.RunWith(null, env, "serve", "--model", "named=nobody/nothing", "--port", "0"), "repository nobody/nothing not found");
        RunCommandTests.AssertOneLineError(CliRunner.RunWith(null, env, "serve", "--model", "/no/such/model.gguf", "--port", "0"), "model not found: /no/such/model.gguf");
    }
}
