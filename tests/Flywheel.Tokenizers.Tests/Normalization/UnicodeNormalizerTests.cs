using Flywheel.Tokenizers.Normalization;

namespace Flywheel.Tokenizers.Tests.Normalization;

/// <summary>Expected values are Python's unicodedata.normalize (Unicode 14.0.0).</summary>
public sealed class UnicodeNormalizerTests
{
    [Theory]
    [InlineData("cafe\u0301", "caf\u00E9", "cafe\u0301")]
    [InlineData("caf\u00E9", "caf\u00E9", "cafe\u0301")]
    [InlineData("\u212B", "\u00C5", "A\u030A")] // ANGSTROM SIGN is a singleton: never composed back
    [InlineData("\u1E9B\u0323", "\u1E9B\u0323", "\u017F\u0323\u0307")] // UAX #15's example
    [InlineData("a\u0301\u0328", "\u0105\u0301", "a\u0328\u0301")] // marks reordered by class (202 before 230)
    [InlineData("\u1100\u1161\u11A8", "\uAC01", "\u1100\u1161\u11A8")] // Hangul L V T
    [InlineData("\uAC00\u11A8", "\uAC01", "\u1100\u1161\u11A8")] // Hangul LV + T
    [InlineData("\u0344", "\u0308\u0301", "\u0308\u0301")] // excluded non-starter decomposition
    [InlineData("\u0301a", "\u0301a", "\u0301a")] // a leading mark composes with nothing
    [InlineData("e\u0327\u0306", "\u1E1D", "e\u0327\u0306")]
    [InlineData("plain ASCII", "plain ASCII", "plain ASCII")]
    [InlineData("\U0001D15E", "\U0001D157\U0001D165", "\U0001D157\U0001D165")] // musical symbol: excluded from composition
    public void MatchesPython(string input, string nfc, string nfd)
    {
        Assert.Equal(nfc, UnicodeNormalizer.ToNfc(input));
        Assert.Equal(nfd, UnicodeNormalizer.ToNfd(input));
    }

    [Fact]
    public void Qwen3TokenizerJson_NormalizesToNfc()
    {
        var qwen3 = TestTokenizers.Qwen3;
        Assert.Equal(qwen3.Encode("caf\u00E9"), qwen3.Encode("cafe\u0301"));
        Assert.Equal(qwen3.Encode("\uAC01"), qwen3.Encode("\u1100\u1161\u11A8"));
        // The GGUF vocabulary has no normalizer: llama.cpp tokenizes the decomposed form as it is.
        Assert.NotEqual(TestTokenizers.Qwen2.Encode("caf\u00E9"), TestTokenizers.Qwen2.Encode("cafe\u0301"));
    }
}
