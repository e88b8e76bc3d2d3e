using System.Globalization;
using System.Text.Json;
using Flywheel.Formats.Gguf;
using Flywheel.Tensors;
using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

/// <summary>
/// <c>flywheel synth</c> on the small qwen2-test shape: the file round-trips through the GGUF reader with the shape's
/// hyperparameters, the Qwen2 vocabulary and llama-quantize's Q4_K_M layout, holds values of the intended scale, is
/// the same for the same seed, and loads and generates in Flywheel. (That the full Qwen2.5-0.5B files equal
/// llama-quantize's output byte for byte is checked by bench/compare-llamacpp/check-synth.py, outside CI.)
/// </summary>
public class SynthCommandTests
{
    private static string Vocab => TestPaths.SharedFile("testdata", "vocab", "ggml-vocab-qwen2.gguf");

    private static string Synth(string type, ulong seed, string? dir = null)
    {
        var path = Path.Combine(dir ?? TestPaths.TempDir(), $"synth-{type}-{seed}.gguf");
        var r = CliRunner.Run("synth", "--shape", "qwen2-test", "--type", type, "--seed", seed.ToString(CultureInfo.InvariantCulture),
            "--vocab", Vocab, "--output", path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("qwen2-test", r.Stdout);
        return path;
    }

    [Fact]
    public void Q4_K_M_file_round_trips_with_the_shape_vocabulary_and_mixture()
    {
        using var f = GgufFile.Open(Synth("q4_k_m", 1));
        using var vocab = GgufFile.Open(Vocab);
        Assert.Equal("qwen2", f.Architecture);
        Assert.Equal(2, f.TryGetInt64("qwen2.block_count"));
        Assert.Equal(128, f.TryGetInt64("qwen2.embedding_length"));
        Assert.Equal(512, f.TryGetInt64("qwen2.feed_forward_length"));
        Assert.Equal(4, f.TryGetInt64("qwen2.attention.head_count"));
        Assert.Equal(2, f.TryGetInt64("qwen2.attention.head_count_kv"));
        Assert.Equal(4096, f.TryGetInt64("qwen2.context_length"));
        Assert.Equal(1e6, f.TryGetDouble("qwen2.rope.freq_base"));
        Assert.Equal(1e-6f, (float)f.TryGetDouble("qwen2.attention.layer_norm_rms_epsilon")!.Value);
        Assert.Equal(15, f.TryGetInt64(GgufKeys.FileType)); // LLAMA_FTYPE_MOSTLY_Q4_K_M
        foreach (var key in vocab.MetadataKeys.Where(k => k.StartsWith("tokenizer.", StringComparison.Ordinal)))
        {
            Assert.Equal(vocab.Metadata[key].Type, f.Metadata[key].Type);
            if (vocab.Metadata[key].Value is GgufArray a) Assert.Equal(a.Items, f.TryGetArray(key)!.Items);
            else Assert.Equal(vocab.Metadata[key].Value, f.Metadata[key].Value);
        }
        var tokens = vocab.TryGetArray(GgufKeys.TokenizerTokens)!.Length;

        // 2 layers × 12 tensors, the embedding (tied: no output.weight) and the output norm.
        Assert.Equal(26, f.Tensors.Count);
        Assert.Null(f.FindTensor("output.weight"));
        var expected = new Dictionary<string, (GgmlType Type, long[] Shape)>
        {
            // Row length 128 is not a multiple of 256: the tied embedding takes Q8_0, Q4_K falls back to Q5_0, Q6_K to Q8_0.
            ["token_embd.weight"] = (GgmlType.Q8_0, [128, tokens]),
            ["blk.0.attn_q.weight"] = (GgmlType.Q5_0, [128, 128]),
            ["blk.0.attn_k.weight"] = (GgmlType.Q5_0, [128, 64]),
            ["blk.0.attn_v.weight"] = (GgmlType.Q5_0, [128, 64]),
            ["blk.1.attn_v.weight"] = (GgmlType.Q8_0, [128, 64]), // use_more_bits(1, 2): the last eighth
            ["blk.0.attn_output.weight"] = (GgmlType.Q5_0, [128, 128]),
            ["blk.0.ffn_gate.weight"] = (GgmlType.Q5_0, [128, 512]),
            ["blk.0.ffn_up.weight"] = (GgmlType.Q5_0, [128, 512]),
            ["blk.0.ffn_down.weight"] = (GgmlType.Q4_K, [512, 128]), // 512 = 2 × 256 keeps the K-quants
            ["blk.1.ffn_down.weight"] = (GgmlType.Q6_K, [512, 128]),
            ["blk.0.attn_q.bias"] = (GgmlType.F32, [128]),
            ["blk.0.attn_k.bias"] = (GgmlType.F32, [64]),
            ["blk.1.ffn_norm.weight"] = (GgmlType.F32, [128]),
            ["output_norm.weight"] = (GgmlType.F32, [128]),
        };
        foreach (var (name, (type, shape)) in expected)
        {
            var t = f.FindTensor(name) ?? throw new Xunit.Sdk.XunitException($"{name} is missing");
            Assert.True(type == t.Type, $"{name}: {t.Type}, expected {type}");
            Assert.Equal(shape, t.Shape);
        }

        // Values: matrices N(0, 0.02²), norm weights near 1.
        var (mean, std) = Moments(f, "blk.0.ffn_gate.weight");
        Assert.InRange(mean, -0.002, 0.002);
        Assert.InRange(std, 0.018, 0.022);
        (mean, std) = Moments(f, "token_embd.weight");
        Assert.InRange(std, 0.019, 0.021);
        (mean, std) = Moments(f, "blk.0.attn_norm.weight");
        Assert.InRange(mean, 0.98, 1.02);
        Assert.InRange(std, 0.03, 0.07);
    }

    private static (double Mean, double Std) Moments(GgufFile f, string name)
    {
        var info = f.FindTensor(name)!;
        var view = f.GetTensor(name);
        var rowLength = (int)info.Shape[0];
        var rows = (int)(info.ElementCount / rowLength);
        var values = new float[rowLength];
        double sum = 0, squares = 0;
        long n = 0;
        for (var r = 0; r < Math.Min(rows, 4096); r++)
        {
            Dequantize.Row(info.Type, view.Row(r), values);
            foreach (var v in values) { sum += v; squares += (double)v * v; n++; }
        }
        var mean = sum / n;
        return (mean, Math.Sqrt(squares / n - mean * mean));
    }

    [Fact]
    public void Same_seed_gives_the_same_bytes_and_another_seed_does_not()
    {
        var dir = TestPaths.TempDir();
        var a = File.ReadAllBytes(Synth("q4_0", 7, dir));
        var b = File.ReadAllBytes(Synth("q4_0", 7, TestPaths.TempDir()));
        var c = File.ReadAllBytes(Synth("q4_0", 8, dir));
        Assert.Equal(a, b);
        Assert.Equal(a.Length, c.Length);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData("q8_0", GgmlType.Q8_0, GgmlType.Q8_0)]
    [InlineData("q4_0", GgmlType.Q4_0, GgmlType.Q8_0)]
    [InlineData("f16", GgmlType.F16, GgmlType.F16)]
    public void Each_type_loads_and_generates(string type, GgmlType matrix, GgmlType embedding)
    {
        var path = Synth(type, 1);
        using (var f = GgufFile.Open(path))
        {
            Assert.Equal(matrix, f.FindTensor("blk.0.ffn_up.weight")!.Type);
            Assert.Equal(embedding, f.FindTensor("token_embd.weight")!.Type);
        }
        var r = CliRunner.Run("run", "-m", path, "--raw", "--ids", "--temperature", "0", "-n", "6", "--prompt", "Hello world");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var ids = JsonSerializer.Deserialize<int[]>(r.Stdout.Trim())!;
        Assert.Equal(6, ids.Length);
    }

    [Theory]
    [InlineData(new[] { "--shape", "qwen9-huge", "--type", "q8_0" }, "unknown --shape 'qwen9-huge'")]
    [InlineData(new[] { "--shape", "qwen2-test", "--type", "q3_k_s" }, "unknown --type 'q3_k_s'")]
    [InlineData(new[] { "--shape", "qwen2-test", "--arch", "llama", "--type", "q8_0" }, "is a qwen2 model, not --arch llama")]
    public void Bad_arguments_are_one_line_errors(string[] args, string message)
    {
        var r = CliRunner.Run(["synth", .. args, "--output", Path.Combine(TestPaths.TempDir(), "x.gguf")]);
        RunCommandTests.AssertOneLineError(r, message);
    }

    [Fact]
    public void A_missing_vocabulary_or_output_folder_is_a_one_line_error()
    {
        var dir = TestPaths.TempDir();
        RunCommandTests.AssertOneLineError(CliRunner.Run("synth", "--shape", "qwen2-test", "--type", "q8_0",
            "--vocab", Path.Combine(dir, "none.gguf"), "--output", Path.Combine(dir, "x.gguf")), "pass --vocab FILE");
        RunCommandTests.AssertOneLineError(CliRunner.Run("synth", "--shape", "qwen2-test", "--type", "q8_0",
            "--vocab", Vocab, "--output", Path.Combine(dir, "no", "x.gguf")), "does not exist (--output)");
        // A vocabulary of another size than the shape's: the GPT-2 file has 50257 tokens, Qwen2.5-0.5B 151936.
        RunCommandTests.AssertOneLineError(CliRunner.Run("synth", "--shape", "qwen2.5-0.5b", "--type", "q8_0",
            "--vocab", TestPaths.SharedFile("testdata", "vocab", "ggml-vocab-gpt-2.gguf"), "--output", Path.Combine(dir, "x.gguf")),
            "has a vocabulary of 151936 tokens");
        Assert.False(File.Exists(Path.Combine(dir, "x.gguf")));
    }
}
