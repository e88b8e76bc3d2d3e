using Flywheel.Tokenizers.Bpe;

namespace Flywheel.Tokenizers.Tests.Bpe;

public sealed class PreTokenizerTests
{
    private const string Sample =
        "Hello, y'all! HOW'RE you 😁 ?我想在apple工作1314151天～ 𝐇𝐞𝐥𝐥𝐨 𐐀𐐨 \t\r\n  code(x) => x*2;\u00A0\u3000end  ";

    public static TheoryData<string> FamilyNames => [.. PreTokenizerFamilies.Names.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void EveryFamily_CompilesAndCoversTheText(string name)
    {
        Assert.True(PreTokenizerFamilies.TryGet(name, out var family));
        var pre = new PreTokenizer(family.Patterns);
        var pieces = new List<Range>();
        pre.Split(Sample, pieces);
        int expectedStart = 0;
        foreach (var piece in pieces)
        {
            var (start, length) = piece.GetOffsetAndLength(Sample.Length);
            Assert.Equal(expectedStart, start);
            Assert.True(length > 0);
            // Never cut a surrogate pair.
            Assert.False(char.IsLowSurrogate(Sample[start]));
            expectedStart = start + length;
        }
        Assert.Equal(Sample.Length, expectedStart);
    }

    [Fact]
    public void EmptyOrMissingName_IsLlamaCppDefault()
    {
        Assert.True(PreTokenizerFamilies.TryGet(null, out var missing));
        Assert.True(PreTokenizerFamilies.TryGet("default", out var named));
        Assert.Same(named, missing);
        Assert.False(PreTokenizerFamilies.TryGet("no-such-family", out _));
    }

    [Theory]
    [InlineData("llama-bpe", "Hello world", new[] { "Hello", " world" })]
    [InlineData("llama-bpe", "12345", new[] { "123", "45" })]
    [InlineData("qwen2", "12345", new[] { "1", "2", "3", "4", "5" })]
    [InlineData("qwen2", "I'M here\n\n  x", new[] { "I", "'M", " here", "\n\n", " ", " x" })]
    [InlineData("gpt-2", "  Hello", new[] { " ", " Hello" })]
    [InlineData("llama-bpe", "𝐇𝐞𝐥𝐥𝐨 world", new[] { "𝐇𝐞𝐥𝐥𝐨", " world" })]
    [InlineData("llama-bpe", "a😁😁b", new[] { "a", "😁😁", "b" })]
    [InlineData("deepseek-llm", "𐐀𐐨 𝐇x", new[] { "𐐀𐐨", " 𝐇", "x" })] // math bold is outside its letter class
    [InlineData("starcoder", "abc123", new[] { "abc", "1", "2", "3" })]
    public void Splits(string family, string text, string[] expected)
    {
        Assert.True(PreTokenizerFamilies.TryGet(family, out var f));
        var pieces = new List<Range>();
        new PreTokenizer(f.Patterns).Split(text, pieces);
        Assert.Equal(expected, pieces.Select(p => text[p]));
    }

    [Theory]
    [InlineData("a++b", "(?>a+)b")]
    [InlineData(@"[^\r\n\p{L}\p{N}]?+\p{L}+", @"(?>[^\r\n\p{L}\p{N}]?)\p{L}+")]
    [InlineData(@" ?[^\s\p{L}\p{N}]++[\r\n]*", @" ?(?>[^\s\p{L}\p{N}]+)[\r\n]*")]
    [InlineData("(ab)*+c", "(?>(ab)*)c")]
    [InlineData(@"\d{1,3}+x", @"(?>\d{1,3})x")]
    [InlineData("a+?b", "a+?b")]
    [InlineData(@"\x{41}", @"\u0041")]
    [InlineData("(?i:'s|'t)", "(?i:'s|'t)")]
    public void Translate_RewritesForDotNet(string oniguruma, string dotnet)
    {
        Assert.Equal(dotnet, RegexTranslator.Translate(oniguruma).Pattern);
    }

    [Fact]
    public void Translate_MovesSupplementaryRangesToPrivateUse()
    {
        var result = RegexTranslator.Translate("[a-z\U00010400-\U0001044F]+|\\x{1F600}");
        Assert.Equal(@"[a-z\uE000]+|\uE001", result.Pattern);
        Assert.Equal([(0x10400, 0x1044F), (0x1F600, 0x1F600)], result.AstralRanges);
    }

    [Fact]
    public void StandIns_HaveTheCategoryOfTheCharacterTheyReplace()
    {
        var rule = new RegexSplitRule(PreTokenizerFamilies.Qwen2);
        foreach (int cp in new[] { 0x1D407, 0x10400, 0x20000, 0x1F601, 0x1D7CF, 0xE0001, 0x1F3FB })
        {
            char proxy = rule.ProxyFor(cp);
            Assert.False(char.IsSurrogate(proxy));
            Assert.Equal(System.Globalization.CharUnicodeInfo.GetUnicodeCategory(cp), System.Globalization.CharUnicodeInfo.GetUnicodeCategory(proxy));
        }
        Assert.Equal('a', rule.ProxyFor('a'));
    }
}
