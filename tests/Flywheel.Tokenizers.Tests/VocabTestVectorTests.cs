namespace Flywheel.Tokenizers.Tests;

/// <summary>Every case of llama.cpp's vocabulary test files must tokenize to exactly the expected ids.</summary>
public sealed class VocabTestVectorTests
{
    public static TheoryData<string> Vocabularies => ["qwen2", "llama-bpe", "llama-spm", "gpt-2", "deepseek-llm"];

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Encode_MatchesEveryTestVector(string vocabulary)
    {
        var tokenizer = TokenizerLoader.FromGguf(VocabTestCases.VocabPath(vocabulary));
        var cases = VocabTestCases.Load(vocabulary);
        var failures = new List<string>();
        foreach (var (text, expected) in cases)
        {
            var actual = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
            if (!actual.SequenceEqual(expected))
            {
                failures.Add($"'{Escape(text)}'\n  expected {string.Join(' ', expected)}\n  actual   {string.Join(' ', actual)}");
            }
        }
        Assert.True(failures.Count == 0, $"{vocabulary}: {failures.Count}/{cases.Count} cases differ:\n{string.Join('\n', failures)}");
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Decode_RoundTripsEveryTestVector(string vocabulary)
    {
        var tokenizer = TokenizerLoader.FromGguf(VocabTestCases.VocabPath(vocabulary));
        foreach (var (text, expected) in VocabTestCases.Load(vocabulary))
        {
            Assert.Equal(text, tokenizer.Decode(expected));
        }
    }

    internal static string Escape(string text) =>
        text.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");
}
