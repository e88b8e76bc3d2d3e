using System.Diagnostics;
using Flywheel.Testing;

namespace Flywheel.Tokenizers.Tests;

public sealed class EncodeTests
{
    [Theory]
    [MemberData(nameof(TestTokenizers.AllNames), MemberType = typeof(TestTokenizers))]
    public void Corpus_RoundTrips(string name)
    {
        var tokenizer = TestTokenizers.ByName(name);
        // SentencePiece puts its dummy space after every special token, so those texts do not come back as they were.
        foreach (var c in TokenizerCorpus.All.Where(c => !c.AddSpecial && !(c.ParseSpecial && tokenizer.AddSpacePrefix)))
        {
            var ids = tokenizer.Encode(c.Text, parseSpecial: c.ParseSpecial);
            // Lone surrogates come back as U+FFFD; Qwen3's tokenizer.json normalizes to NFC.
            string expected = System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(c.Text));
            if (name == "qwen3")
            {
                expected = Flywheel.Tokenizers.Normalization.UnicodeNormalizer.ToNfc(expected);
            }
            Assert.Equal(expected, tokenizer.Decode(ids));
        }
    }

    [Theory]
    [MemberData(nameof(TestTokenizers.AllNames), MemberType = typeof(TestTokenizers))]
    public void LoneSurrogates_AreReadAsReplacementCharacters(string name)
    {
        var tokenizer = TestTokenizers.ByName(name);
        Assert.Equal(tokenizer.Encode("abc\uFFFDdef\uFFFD"), tokenizer.Encode("abc\uD800def\uDC00"));
        Assert.Equal(tokenizer.Encode("\uFFFD"), tokenizer.Encode("\uDBFF"));
        Assert.Equal("x\uFFFDy", tokenizer.Decode(tokenizer.Encode("x\uDC00y")));
    }

    [Theory]
    [MemberData(nameof(TestTokenizers.AllNames), MemberType = typeof(TestTokenizers))]
    public void EmptyText_GivesNoTokens(string name)
    {
        var tokenizer = TestTokenizers.ByName(name);
        Assert.Empty(tokenizer.Encode(""));
        Assert.Equal(tokenizer.AddBos ? [tokenizer.BosId!.Value] : [], tokenizer.Encode("", addSpecial: true));
        Assert.Equal("", tokenizer.Decode([]));
    }

    [Theory]
    [MemberData(nameof(TestTokenizers.AllNames), MemberType = typeof(TestTokenizers))]
    public void LongInputs_FinishFast(string name)
    {
        // Runs of one character are the classic quadratic trap (one huge piece to merge); so is long CJK text.
        var tokenizer = TestTokenizers.ByName(name);
        tokenizer.Encode("warm up");
        string chinese = string.Concat(Enumerable.Repeat(TokenizerCorpus.All.Single(c => c.Name == "chinese-long").Text, 25));
        string[] inputs =
        [
            new string('a', 20_000), new string(' ', 20_000), new string('\n', 20_000), new string('你', 20_000),
            new string('7', 20_000), string.Concat(Enumerable.Repeat("ab ", 7_000)), chinese,
        ];
        foreach (var text in inputs)
        {
            var watch = Stopwatch.StartNew();
            var ids = tokenizer.Encode(text);
            watch.Stop();
            Assert.NotEmpty(ids);
            // Generous: a few tens of ms on an idle machine; the bound only catches blow-ups.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{name}: {text.Length} chars of '{text[0]}' took {watch.Elapsed}");
        }
    }

    [Theory]
    [InlineData("qwen2")]
    [InlineData("llama-spm")]
    public void ConcurrentEncoding_GivesTheSameIds(string name)
    {
        // One tokenizer is shared by every request; the piece cache must not mix results across threads.
        var tokenizer = TestTokenizers.ByName(name);
        var texts = TokenizerCorpus.All.Select(c => c.Text).ToArray();
        var expected = texts.Select(t => tokenizer.Encode(t)).ToArray();
        Parallel.For(0, texts.Length * 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            int k = i % texts.Length;
            Assert.Equal(expected[k], tokenizer.Encode(texts[k]));
        });
    }

    [Fact]
    public void Qwen3TokenizerJson_MatchesQwen2TestVectors()
    {
        // The llama.cpp test vectors for Qwen2 were made with HF tokenizers; Qwen3's tokenizer.json shares the
        // vocabulary and merges, so every case must give the same ids.
        var tokenizer = TestTokenizers.Qwen3;
        foreach (var (text, expected) in VocabTestCases.Load("qwen2"))
        {
            Assert.Equal(expected, tokenizer.Encode(text));
        }
    }

    [Theory]
    [InlineData("Hello world", new[] { 9707, 1879 })]
    [InlineData("你好世界", new[] { 108386, 99489 })]
    [InlineData("我想在apple工作", new[] { 104100, 18493, 22377, 99257 })]
    public void Qwen_KnownIds(string text, int[] ids)
    {
        Assert.Equal(ids, TestTokenizers.Qwen2.Encode(text));
        Assert.Equal(ids, TestTokenizers.Qwen3.Encode(text));
    }

    [Fact]
    public void SentencePiece_UsesByteFallbackForUnknownCharacters()
    {
        var tokenizer = TestTokenizers.LlamaSpm;
        var ids = tokenizer.Encode("🦙");
        Assert.Equal(["▁", "<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"], ids.Select(tokenizer.TokenText));
        Assert.Equal(TokenType.Byte, tokenizer.GetTokenType(ids[1]));
        Assert.Equal([0xF0], tokenizer.TokenBytes(ids[1]));
        Assert.Equal("🦙", tokenizer.Decode(ids));
    }

    [Fact]
    public void TokenBytes_DecodeByteLevelText()
    {
        var tokenizer = TestTokenizers.Qwen2;
        int id = tokenizer.Encode(" Hello")[0];
        Assert.Equal("ĠHello", tokenizer.TokenText(id));
        Assert.Equal(" Hello"u8.ToArray(), tokenizer.TokenBytes(id));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.TokenBytes(tokenizer.VocabSize));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
    }

    [Fact]
    public void FromPath_AcceptsGgufFilesAndTokenizerFolders()
    {
        Assert.Equal(TokenizerKind.SentencePiece, TokenizerLoader.FromPath(VocabTestCases.VocabPath("llama-spm")).Kind);
        var hf = TokenizerLoader.FromPath(TestPaths.SharedFile("testdata", "hf", "smollm2"));
        Assert.Equal(TokenizerKind.BytePairEncoding, hf.Kind);
        Assert.Equal(49152, hf.VocabSize);
        Assert.Throws<FileNotFoundException>(() => TokenizerLoader.FromPath(TestPaths.SharedFile("testdata", "hf", "qwen2")));
    }

    [Fact]
    public void TokenizerJson_WithStringMerges_Loads()
    {
        // A minimal byte-level BPE tokenizer.json with merges in the older "a b" string form.
        string dir = TestPaths.TempDir();
        string path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, TinyTokenizerJson());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"eos_token": {"content": "<eos>"}, "add_bos_token": false}""");
        var tokenizer = TokenizerLoader.FromHuggingFace(path);
        var ids = tokenizer.Encode("low lower <eos>", parseSpecial: true);
        Assert.Equal(["low", "Ġlow", "er", "Ġ", "<eos>"], ids.Select(tokenizer.TokenText));
        Assert.Equal(tokenizer.TokenId("<eos>"), tokenizer.EosId);
        Assert.Contains(tokenizer.EosId!.Value, tokenizer.EndOfGenerationIds);
        Assert.Equal("low lower <eos>", tokenizer.Decode(ids));
    }

    private static string TinyTokenizerJson()
    {
        // Every byte-level character as a token, then the merged tokens.
        var tokens = new List<string>();
        for (int b = 0; b < 256; b++)
        {
            tokens.Add(ByteLevelChar(b).ToString());
        }
        tokens.AddRange(["lo", "low", "Ġl", "Ġlo", "Ġlow", "er"]);
        var vocab = string.Join(",", tokens.Select((t, i) => $"{System.Text.Json.JsonSerializer.Serialize(t)}:{i}"));
        return $$"""
        {
          "added_tokens": [{"id": {{tokens.Count}}, "content": "<eos>", "special": true, "lstrip": false, "rstrip": false}],
          "normalizer": null,
          "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
          "decoder": {"type": "ByteLevel"},
          "model": {"type": "BPE", "vocab": {{{vocab}}}, "merges": ["Ġ l", "Ġl o", "Ġlo w", "l o", "lo w", "e r"]}
        }
        """;
    }

    private static char ByteLevelChar(int b)
    {
        int shifted = 0;
        for (int i = 0; i < 256; i++)
        {
            bool printable = (i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF);
            if (i == b)
            {
                return printable ? (char)i : (char)(256 + shifted);
            }
            if (!printable)
            {
                shifted++;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(b));
    }
}
