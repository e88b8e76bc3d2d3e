using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Flywheel.Formats.Gguf;
using Flywheel.Tensors;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel synth --shape qwen2.5-0.5b --type q8_0|q4_0|q4_k_m|f16|f32 [--seed 1] [--vocab FILE] --output FILE</c>:
/// writes a random-weight model of a real model's shape, laid out as llama-quantize would lay out the real one, with a
/// real tokenizer vocabulary, so benchmarks can compare engines on the same bytes without downloading weights.
/// The vocabulary defaults to the architecture's vocabulary GGUF in the shared test data
/// ($FLYWHEEL_SHARED or ../shared, testdata/vocab/ggml-vocab-ARCH.gguf).
/// </summary>
public static class SynthCommand
{
    private static readonly Dictionary<string, SynthFileType> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        ["f32"] = SynthFileType.F32,
        ["f16"] = SynthFileType.F16,
        ["q8_0"] = SynthFileType.Q8_0,
        ["q4_0"] = SynthFileType.Q4_0,
        ["q4_k_m"] = SynthFileType.Q4_K_M,
    };

    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture (qwen2).", DefaultValueFactory = _ => "qwen2" };
        var shape = new Option<string>("--shape") { Description = $"Model shape: {string.Join(", ", SynthShape.Known.Keys)}.", DefaultValueFactory = _ => "qwen2.5-0.5b" };
        var type = new Option<string>("--type") { Description = $"File type: {string.Join(", ", Types.Keys)}.", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Random seed; the same seed gives the same bytes.", DefaultValueFactory = _ => 1 };
        var vocab = new Option<string?>("--vocab") { Description = "GGUF file whose tokenizer.* keys are copied (default: the shared ggml-vocab-ARCH.gguf)." };
        var output = new Option<string>("--output", "-o") { Description = "The GGUF file to write.", Required = true };
        var command = new Command("synth", "Write a random-weight GGUF model of a real model's shape (for benchmarks).");
        foreach (var o in new Option[] { arch, shape, type, seed, vocab, output }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var archName = parse.GetValue(arch)!;
            var shapeName = parse.GetValue(shape)!;
            if (!SynthShape.Known.TryGetValue(shapeName, out var s))
            {
                throw new CliUsageException($"unknown --shape '{shapeName}'; known: {string.Join(", ", SynthShape.Known.Keys)}");
            }
            if (!string.Equals(s.Architecture, archName, StringComparison.OrdinalIgnoreCase))
            {
                throw new CliUsageException($"--shape {s.Name} is a {s.Architecture} model, not --arch {archName}");
            }
            var typeName = parse.GetValue(type)!;
            if (!Types.TryGetValue(typeName, out var fileType))
            {
                throw new CliUsageException($"unknown --type '{typeName}'; known: {string.Join(", ", Types.Keys)}");
            }
            var vocabPath = parse.GetValue(vocab) ?? DefaultVocabulary(s.Architecture);
            if (!File.Exists(vocabPath)) throw new CliUsageException($"vocabulary file {vocabPath} does not exist; pass --vocab FILE");
            var outputPath = Path.GetFullPath(parse.GetValue(output)!);
            var directory = Path.GetDirectoryName(outputPath)!;
            if (!Directory.Exists(directory)) throw new CliUsageException($"folder {directory} does not exist (--output)");

            var clock = Stopwatch.StartNew();
            using var vocabulary = GgufFile.Open(vocabPath);
            var writer = SynthModel.Build(s, fileType, parse.GetValue(seed), vocabulary);
            writer.Save(outputPath);
            using var written = GgufFile.Open(outputPath);
            var counts = written.Tensors.GroupBy(t => t.Type).OrderBy(g => g.Key)
                .Select(g => $"{GgmlTypeInfo.Name(g.Key)} {g.Count()}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{outputPath}: {s.Name} {fileType}, {written.FileLength / 1048576.0:F1} MiB, {written.Tensors.Count} tensors ({string.Join(", ", counts)}), {clock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        }));
        return command;
    }

    private static string DefaultVocabulary(string architecture)
    {
        var shared = Environment.GetEnvironmentVariable("FLYWHEEL_SHARED") is { Length: > 0 } env ? env : Path.Combine("..", "shared");
        return Path.GetFullPath(Path.Combine(shared, "testdata", "vocab", $"ggml-vocab-{architecture}.gguf"));
    }
}
