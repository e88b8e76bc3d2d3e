using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Flywheel.Testing;

namespace Flywheel.Tokenizers.Tests;

/// <summary>A fact that runs only when FLYWHEEL_LLAMA_TOKENIZE names a llama-tokenize binary.</summary>
public sealed class LlamaTokenizeFactAttribute : FactAttribute
{
    public LlamaTokenizeFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("FLYWHEEL_LLAMA_TOKENIZE")))
        {
            Skip = "set FLYWHEEL_LLAMA_TOKENIZE=/path/to/llama-tokenize to regenerate the llama-tokenize fixtures";
        }
    }
}

/// <summary>
/// Regenerates Fixtures/llama-tokenize/*.json by running llama.cpp's llama-tokenize on every
/// <see cref="TokenizerCorpus"/> case. Opt-in: <c>FLYWHEEL_LLAMA_TOKENIZE=/work/ref/llama.cpp/build/bin/llama-tokenize
/// dotnet test --filter LlamaTokenizeFixtureGenerator</c>. Nothing here builds llama.cpp.
/// </summary>
public sealed class LlamaTokenizeFixtureGenerator
{
    [LlamaTokenizeFact]
    public void Regenerate()
    {
        string tool = Environment.GetEnvironmentVariable("FLYWHEEL_LLAMA_TOKENIZE")!;
        string commit = Environment.GetEnvironmentVariable("FLYWHEEL_LLAMA_CPP_COMMIT") ?? "unknown";
        Directory.CreateDirectory(LlamaTokenizeFixtures.Folder);
        string temp = TestPaths.TempDir();

        var vocabularies = LlamaTokenizeFixtures.GgufVocabularies
            .Select(v => (Name: v, Gguf: VocabTestCases.VocabPath(v), Source: $"testdata/vocab/ggml-vocab-{v}.gguf"))
            .ToList();
        foreach (var (name, pre) in LlamaTokenizeFixtures.HfVocabularies)
        {
            string gguf = Path.Combine(temp, $"{name}.gguf");
            HfVocabGguf.Write(TestPaths.SharedFile("testdata", "hf", name, "tokenizer.json"), pre, gguf);
            vocabularies.Add((name, gguf,
                $"a vocab-only GGUF written by HfVocabGguf (tests) from testdata/hf/{name}/tokenizer.json with tokenizer.ggml.pre = \"{pre}\""));
        }

        foreach (var (name, gguf, source) in vocabularies)
        {
            var file = new LlamaTokenizeFixtures.FixtureFile
            {
                Vocabulary = source,
                MadeWith = "printf '%s' TEXT > case.txt (UTF-8; a lone surrogate written as U+FFFD); "
                    + "llama-tokenize -m VOCAB.gguf -f case.txt --no-escape --ids --log-disable "
                    + "[--no-bos unless add_special] [--no-parse-special unless parse_special]",
                LlamaCppCommit = commit,
            };
            foreach (var c in TokenizerCorpus.All)
            {
                string input = Path.Combine(temp, "case.txt");
                File.WriteAllBytes(input, Encoding.UTF8.GetBytes(c.Text));
                var args = new List<string> { "-m", gguf, "-f", input, "--no-escape", "--ids", "--log-disable" };
                if (!c.AddSpecial)
                {
                    args.Add("--no-bos");
                }
                if (!c.ParseSpecial)
                {
                    args.Add("--no-parse-special"); // llama-tokenize parses specials by default
                }
                file.Cases.Add(new LlamaTokenizeFixtures.FixtureCase
                {
                    Name = c.Name,
                    Text = c.Text,
                    ParseSpecial = c.ParseSpecial,
                    AddSpecial = c.AddSpecial,
                    Ids = string.Join(' ', Run(tool, args)),
                });
            }
            File.WriteAllText(LlamaTokenizeFixtures.PathOf(name), JsonSerializer.Serialize(file, LlamaTokenizeFixtures.Json) + "\n");
        }
    }

    private static int[] Run(string tool, List<string> args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"llama-tokenize failed ({process.ExitCode}): {stderr}");
        }
        string line = stdout.Split('\n').Last(l => l.StartsWith('['));
        return [.. line.Trim('[', ']', ' ', '\r').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse)];
    }
}
