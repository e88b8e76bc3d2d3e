using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Flywheel.Models;
using Flywheel.Tokenizers;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel perplexity --model MODEL --file TEXT [--ctx 512]</c>: perplexity the way llama.cpp's llama-perplexity
/// computes it, so the figures compare directly. The whole file is tokenized with BOS as the model's metadata says,
/// cut into non-overlapping chunks of ctx tokens (a partial tail is dropped); each chunk is evaluated from an empty
/// cache, its first token replaced by BOS when the model adds BOS, and only tokens from ctx/2 on are scored (each has
/// at least ctx/2 tokens of context). Prints the running figure per chunk and <c>perplexity: X</c> last.
/// </summary>
public static class PerplexityCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "A GGUF file, Hugging Face folder, pulled model or hub id.", Required = true };
        var file = new Option<string>("--file", "-f") { Description = "A UTF-8 text file.", Required = true };
        var ctx = new Option<int>("--ctx", "-c") { Description = "Tokens per chunk.", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int?>("--chunks") { Description = "Evaluate at most this many chunks (default: all)." };
        var threads = new Option<int?>("--threads", "-t") { Description = "CPU threads to compute on (default: the physical cores)." };
        var command = new Command("perplexity", "Measure a model's perplexity on a text file (as llama-perplexity does).");
        foreach (var o in new Option[] { model, file, ctx, chunks, threads }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var n = parse.GetValue(ctx);
            if (n is < 4 or > 1 << 20) throw new CliUsageException($"--ctx must be between 4 and {1 << 20}, got {n}");
            var maxChunks = parse.GetValue(chunks);
            if (maxChunks is < 1) throw new CliUsageException($"--chunks must be at least 1, got {maxChunks}");
            var textPath = parse.GetValue(file)!;
            if (!File.Exists(textPath)) throw new CliUsageException($"text file not found: {textPath}");
            Threads.Apply(parse.GetValue(threads));
            var path = ModelResolver.Resolve(parse.GetValue(model)!);
            using var loaded = Flywheel.Engine.LoadedModel.Load(Path.GetFileNameWithoutExtension(path), path);
            var tokens = loaded.Tokenizer.Encode(Encoding.UTF8.GetString(File.ReadAllBytes(textPath)), addSpecial: true);
            using var stdout = Generation.OpenStdout();
            Run(loaded.Model, loaded.Tokenizer, tokens, n, maxChunks, stdout);
            return 0;
        }));
        return command;
    }

    internal static double Run(Model model, ITokenizer tokenizer, IReadOnlyList<int> tokens, int contextLength, int? maxChunks, TextWriter output)
    {
        var chunkCount = tokens.Count / contextLength;
        if (maxChunks is { } m) chunkCount = Math.Min(chunkCount, m);
        if (chunkCount == 0)
        {
            throw new CliUsageException($"the text is {tokens.Count} tokens, fewer than one chunk of {contextLength}; use a longer text or a smaller --ctx");
        }
        var vocab = model.Config.VocabSize;
        var session = model.CreateSession(new SessionOptions { ContextLength = contextLength, BatchSize = contextLength });
        var logits = new float[(long)contextLength * vocab]; // [n_ctx, n_vocab]
        var chunk = new int[contextLength];
        var first = contextLength / 2;
        var bos = tokenizer.AddBos ? tokenizer.BosId : null;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{tokens.Count} tokens, {chunkCount} chunks of {contextLength}, scoring the last {contextLength - 1 - first} predictions of each"));
        double nll = 0;
        long scored = 0;
        var clock = Stopwatch.StartNew();
        for (var c = 0; c < chunkCount; c++)
        {
            for (var i = 0; i < contextLength; i++) chunk[i] = tokens[c * contextLength + i];
            if (bos is { } b) chunk[0] = b;
            session.Reset();
            session.Evaluate(chunk, logits);
            // Logits at position i predict token i + 1: score i = first .. n_ctx - 2, as llama-perplexity does.
            for (var i = first; i < contextLength - 1; i++)
            {
                nll -= LogSoftmaxAt(logits.AsSpan(i * vocab, vocab), chunk[i + 1]);
                scored++;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{c + 1}/{chunkCount}] {Math.Exp(nll / scored):F4} ({clock.Elapsed.TotalSeconds / (c + 1):F2} s per chunk)"));
        }
        var value = Math.Exp(nll / scored);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"perplexity: {value:F4}"));
        return value;
    }

    private static double LogSoftmaxAt(ReadOnlySpan<float> logits, int target)
    {
        var max = float.NegativeInfinity;
        foreach (var v in logits) max = MathF.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return logits[target] - max - Math.Log(sum);
    }
}
