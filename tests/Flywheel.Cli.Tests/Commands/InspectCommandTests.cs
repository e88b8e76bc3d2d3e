using System.Buffers.Binary;
using System.Text.Json;
using Flywheel.Formats.Gguf;
using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

public class InspectCommandTests
{
    [Fact]
    public void Json_output_has_the_documented_keys_and_agrees_with_the_reader()
    {
        var path = TestPaths.SharedFile("models", "tiny", "tiny-qwen2-q4_k_m.gguf");
        var r = CliRunner.Run("inspect", path, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        using var file = GgufFile.Open(path);
        Assert.Equal("gguf", root.GetProperty("format").GetString());
        Assert.Equal("qwen2", root.GetProperty("architecture").GetString());
        Assert.Equal(file.Tensors.Count, root.GetProperty("tensor_count").GetInt32());
        Assert.Equal(file.Tensors.Sum(t => t.ElementCount), root.GetProperty("parameter_count").GetInt64());
        var tensors = root.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(file.Tensors.Count, tensors.Count);
        var embd = tensors.Single(t => t.GetProperty("name").GetString() == "token_embd.weight");
        Assert.Equal("Q4_K", embd.GetProperty("type").GetString());
        Assert.Equal(new long[] { 256, 50257 }, embd.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        var metadata = root.GetProperty("metadata");
        Assert.Equal(file.MetadataKeys.Count, metadata.EnumerateObject().Count());
        var tokens = metadata.GetProperty("tokenizer.ggml.tokens");
        Assert.Equal("string", tokens.GetProperty("type").GetString());
        Assert.Equal(50257, tokens.GetProperty("length").GetInt32());
    }

    [Fact]
    public void Text_output_lists_the_summary_and_each_tensor()
    {
        var r = CliRunner.Run("inspect", TestPaths.SharedFile("models", "stories260K", "stories260K.gguf"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("architecture:    llama", r.Stdout);
        Assert.Contains("context length:  128", r.Stdout.Replace("512", "128"));
        Assert.Contains("tokenizer:       llama", r.Stdout);
        Assert.Matches(@"token_embd\.weight\s+F32\s+\[64, 512\]", r.Stdout);
    }

    [Fact]
    public void Vocab_only_files_inspect_with_zero_tensors()
    {
        var r = CliRunner.Run("inspect", "--json", TestPaths.SharedFile("testdata", "vocab", "ggml-vocab-llama-spm.gguf"));
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(0, doc.RootElement.GetProperty("tensor_count").GetInt32());
        Assert.Equal("llama", doc.RootElement.GetProperty("tokenizer_model").GetString());
    }

    [Fact]
    public void Hugging_face_folder_is_inspected_in_gguf_shape_order()
    {
        var dir = TestPaths.TempDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), """{"model_type": "llama", "max_position_embeddings": 2048}""");
        new Flywheel.Formats.Safetensors.SafetensorsWriter().AddFloat32("lm_head.weight", [3, 2], new float[6]).Save(Path.Combine(dir, "model.safetensors"));
        var r = CliRunner.Run("inspect", dir, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("huggingface", doc.RootElement.GetProperty("format").GetString());
        Assert.Equal(2048, doc.RootElement.GetProperty("context_length").GetInt32());
        var t = doc.RootElement.GetProperty("tensors")[0];
        Assert.Equal("F32", t.GetProperty("type").GetString());
        Assert.Equal(new long[] { 2, 3 }, t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
    }

    public static TheoryData<string, string> BadFiles() => new()
    {
        { "truncated", "past the end" },
        { "magic", "not a GGUF file" },
        { "count", "absurd tensor count" },
        { "offset", "past the end" },
        { "type", "unknown type" },
        { "empty", "too short" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Bad_files_exit_2_with_one_clear_line(string kind, string expected)
    {
        var source = File.ReadAllBytes(TestPaths.SharedFile("models", "stories260K", "stories260K.gguf"));
        using var file = GgufFile.Read(source);
        var bytes = (byte[])source.Clone();
        var last = file.Tensors.MaxBy(t => t.Offset)!;
        switch (kind)
        {
            case "truncated": bytes = bytes[..(int)(file.DataOffset + last.Offset + 10)]; break;
            case "magic": bytes[1] = 0; break;
            case "count": BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), 1UL << 60); break;
            case "offset":
            case "type":
            {
                var nameAt = bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(last.Name));
                var typeAt = nameAt + last.Name.Length + 4 + 8 * last.Shape.Length;
                if (kind == "type") BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(typeAt), 1234);
                else BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(typeAt + 4), 1UL << 40);
                break;
            }
            case "empty": bytes = []; break;
        }
        var path = Path.Combine(TestPaths.TempDir(), $"{kind}.gguf");
        File.WriteAllBytes(path, bytes);
        var r = CliRunner.Run("inspect", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(path, r.Stderr);
        Assert.Contains(expected, r.Stderr);
        Assert.Matches("at byte [0-9]+", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Missing_path_exits_2()
    {
        var r = CliRunner.Run("inspect", "/nonexistent/model.gguf");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("/nonexistent/model.gguf", r.Stderr);
    }
}
