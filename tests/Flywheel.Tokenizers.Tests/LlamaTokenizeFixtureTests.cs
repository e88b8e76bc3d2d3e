using Flywheel.Testing;

namespace Flywheel.Tokenizers.Tests;

/// <summary>
/// Compares Flywheel's ids with llama.cpp's llama-tokenize on the <see cref="TokenizerCorpus"/> cases
/// (Fixtures/llama-tokenize, made by <see cref="LlamaTokenizeFixtureGenerator"/>).
/// </summary>
public sealed class LlamaTokenizeFixtureTests
{
    public static TheoryData<string> GgufVocabularies => [.. LlamaTokenizeFixtures.GgufVocabularies];

    public static TheoryData<string> HfVocabularies => [.. LlamaTokenizeFixtures.HfVocabularies.Select(v => v.Name)];

    [Theory]
    [MemberData(nameof(GgufVocabularies))]
    public void GgufTokenizer_MatchesLlamaTokenize(string vocabulary)
    {
        var tokenizer = TokenizerLoader.FromGguf(VocabTestCases.VocabPath(vocabulary));
        AssertMatches(tokenizer, LlamaTokenizeFixtures.Load(vocabulary), _ => true);
    }

    [Theory]
    [MemberData(nameof(HfVocabularies))]
    public void HuggingFaceTokenizer_MatchesLlamaTokenize(string vocabulary)
    {
        var tokenizer = TokenizerLoader.FromHuggingFace(TestPaths.SharedFile("testdata", "hf", vocabulary, "tokenizer.json"));
        AssertMatches(tokenizer, LlamaTokenizeFixtures.Load(vocabulary), c => vocabulary != "qwen3" || IsNfc(c.Text));
    }

    [Fact]
    public void Qwen3TokenizerJson_MatchesQwen2GgufOnPlainText()
    {
        // Qwen3's tokenizer.json is Qwen2's vocabulary and merges plus added tokens (<think>, ...), so plain text
        // must give the ids llama-tokenize gives with the Qwen2 GGUF vocabulary. Cases naming Qwen3-only added
        // tokens are left out: Qwen2's file has [PADn] entries at those ids.
        var tokenizer = TokenizerLoader.FromHuggingFace(TestPaths.SharedFile("testdata", "hf", "qwen3", "tokenizer.json"));
        AssertMatches(tokenizer, LlamaTokenizeFixtures.Load("qwen2"), c => !c.Text.Contains("<think>", StringComparison.Ordinal) && IsNfc(c.Text));
    }

    /// <summary>
    /// Qwen3's tokenizer.json normalizes to NFC; llama.cpp applies no normalizer, so for text that NFC changes
    /// (the "combining" case) HF tokenizers and llama.cpp disagree, and we follow the tokenizer.json.
    /// </summary>
    private static bool IsNfc(string text) => Flywheel.Tokenizers.Normalization.UnicodeNormalizer.ToNfc(text) == text;

    [Fact]
    public void FixturesCoverEveryCorpusCase()
    {
        foreach (var vocabulary in LlamaTokenizeFixtures.GgufVocabularies.Concat(LlamaTokenizeFixtures.HfVocabularies.Select(v => v.Name)))
        {
            var names = LlamaTokenizeFixtures.Load(vocabulary).Cases.Select(c => c.Name).ToHashSet();
            Assert.All(TokenizerCorpus.All, c => Assert.Contains(c.Name, names));
        }
    }

    private static void AssertMatches(Tokenizer tokenizer, LlamaTokenizeFixtures.FixtureFile fixture, Func<LlamaTokenizeFixtures.FixtureCase, bool> include)
    {
        var failures = new List<string>();
        int compared = 0;
        foreach (var c in fixture.Cases.Where(include))
        {
            compared++;
            var actual = tokenizer.Encode(c.Text, addSpecial: c.AddSpecial, parseSpecial: c.ParseSpecial);
            var expected = c.IdList;
            if (!actual.SequenceEqual(expected))
            {
                int at = 0;
                while (at < actual.Count && at < expected.Length && actual[at] == expected[at])
                {
                    at++;
                }
                failures.Add($"{c.Name} '{c.Escaped}': first difference at {at}: expected ...{string.Join(' ', expected.Skip(at).Take(8))}, "
                    + $"actual ...{string.Join(' ', actual.Skip(at).Take(8))} (lengths {expected.Length} vs {actual.Count})");
            }
        }
        Assert.True(compared > 0);
        Assert.True(failures.Count == 0, $"{fixture.Vocabulary}: {failures.Count}/{compared} cases differ from llama-tokenize:\n{string.Join('\n', failures)}");
    }
}
