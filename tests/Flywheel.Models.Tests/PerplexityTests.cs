using Flywheel.Models.Tests.Fixtures;
using Flywheel.Testing;
using Flywheel.Tokenizers;
using Xunit.Abstractions;

namespace Flywheel.Models.Tests;

/// <summary>Perplexity with a 128-token context on the fixtures' text.txt against llama-perplexity's figure.</summary>
public sealed class PerplexityTests(ITestOutputHelper output)
{
    /// <summary>Relative tolerance on perplexity (the brief's 0.5 %).</summary>
    public const double RelativeTolerance = 0.005;

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in LlamaCppReference.Files) data.Add(f);
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Perplexity_ctx128_matches_llama_perplexity(string file)
    {
        var path = LlamaCppReference.ModelPath(file);
        var entry = LlamaCppReference.Get(file);
        var tokenizer = TokenizerLoader.FromGguf(path);
        // The tokenizer must reproduce llama.cpp's prompt ids first, or the comparison below means nothing.
        foreach (var p in entry.Prompts) Assert.Equal(p.PromptIds, tokenizer.Encode(p.Text, addSpecial: true));
        var tokens = tokenizer.Encode(File.ReadAllText(TestPaths.SharedFile("models", "tiny", "text.txt")), addSpecial: true);
        using var model = Model.Load(path);
        var result = Perplexity.Compute(model, tokens, 128);
        var relative = Math.Abs(result.Value - entry.PerplexityCtx128) / entry.PerplexityCtx128;
        output.WriteLine($"{file}: {tokens.Count} tokens, {result.Chunks} chunks, perplexity {result.Value:F4} vs llama.cpp {entry.PerplexityCtx128:F4} (relative difference {relative:E2})");
        Assert.True(relative <= RelativeTolerance, $"perplexity {result.Value} vs {entry.PerplexityCtx128}");
    }
}
