using Flywheel.Formats.Gguf;
using Flywheel.Testing;

namespace Flywheel.Tokenizers.Tests;

public sealed class TokenizerLoaderTests
{
    [Fact]
    public void UnsupportedModel_IsRefusedByName()
    {
        using var file = Write(w => w.Set(GgufKeys.TokenizerModel, "bert").Set(GgufKeys.TokenizerTokens, Tokens("a", "b")));
        var e = Assert.Throws<NotSupportedException>(() => TokenizerLoader.FromGguf(file));
        Assert.Contains("bert", e.Message);
    }

    [Fact]
    public void UnknownPreTokenizer_IsRefusedByName()
    {
        using var file = Write(w => w.Set(GgufKeys.TokenizerModel, "gpt2").Set(GgufKeys.TokenizerPre, "no-such-pre")
            .Set(GgufKeys.TokenizerTokens, Tokens("a", "b")).Set(GgufKeys.TokenizerMerges, Tokens("a b")));
        var e = Assert.Throws<NotSupportedException>(() => TokenizerLoader.FromGguf(file));
        Assert.Contains("no-such-pre", e.Message);
    }

    [Fact]
    public void MissingMerges_IsInvalidData()
    {
        using var file = Write(w => w.Set(GgufKeys.TokenizerModel, "gpt2").Set(GgufKeys.TokenizerPre, "qwen2").Set(GgufKeys.TokenizerTokens, Tokens("a")));
        Assert.Throws<InvalidDataException>(() => TokenizerLoader.FromGguf(file));
    }

    [Fact]
    public void MinimalBpeVocabulary_UsesDefaults()
    {
        // No token types, no ids, no pre-tokenizer name: llama.cpp's "default" family, nothing added.
        using var file = Write(w => w.Set(GgufKeys.TokenizerModel, "gpt2")
            .Set(GgufKeys.TokenizerTokens, Tokens("a", "b", "ab", "Ġ"))
            .Set(GgufKeys.TokenizerMerges, Tokens("a b")));
        var tokenizer = TokenizerLoader.FromGguf(file);
        Assert.Equal("default", tokenizer.PreTokenizerName);
        Assert.Equal([2, 3, 2], tokenizer.Encode("ab ab"));
        Assert.Null(tokenizer.BosId);
        Assert.False(tokenizer.AddBos);
        Assert.Equal("ab ab", tokenizer.Decode([2, 3, 2]));
    }

    private static GgufValue Tokens(params string[] tokens) => GgufValue.Array(GgufValueType.String, tokens);

    private static GgufFile Write(Action<GgufWriter> configure)
    {
        var writer = new GgufWriter();
        writer.Set(GgufKeys.Architecture, "llama");
        configure(writer);
        string path = Path.Combine(TestPaths.TempDir(), "vocab.gguf");
        writer.Save(path);
        return GgufFile.Open(path);
    }
}
