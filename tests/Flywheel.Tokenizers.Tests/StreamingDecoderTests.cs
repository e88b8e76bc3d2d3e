using System.Text;

namespace Flywheel.Tokenizers.Tests;

public sealed class StreamingDecoderTests
{
    private const string Chinese = "我想在apple工作1314151天～今天天气很好，我们去公园散步吧。";
    private const string Emoji = "🦙 llamas 👨‍👩‍👧‍👦 and 🏳️‍🌈 ok ✅";

    [Theory]
    [MemberData(nameof(TestTokenizers.AllNames), MemberType = typeof(TestTokenizers))]
    public void ChunksAreWholeCharacters_AndJoinToTheText(string name)
    {
        var tokenizer = TestTokenizers.ByName(name);
        foreach (var text in new[] { Chinese, Emoji, Chinese + Emoji + "\n" + Chinese })
        {
            var ids = tokenizer.Encode(text);
            var decoder = new StreamingDecoder(tokenizer, stripLeadingSpace: tokenizer.AddSpacePrefix);
            var joined = new StringBuilder();
            foreach (int id in ids)
            {
                string chunk = decoder.Append(id);
                AssertWholeCharacters(chunk);
                joined.Append(chunk);
            }
            joined.Append(decoder.Flush());
            Assert.Equal(text, joined.ToString());
            Assert.Equal(tokenizer.Decode(ids), joined.ToString());
        }
    }

    [Fact]
    public void ByteFallbackTokens_AreHeldBackUntilTheCharacterIsComplete()
    {
        // Llama-2 has no token for 🦙: it is four <0xXX> byte tokens (F0 9F A6 99).
        var tokenizer = TestTokenizers.LlamaSpm;
        var ids = tokenizer.Encode("🦙");
        var bytes = ids.Select(id => tokenizer.TokenText(id)).Where(t => t.StartsWith("<0x", StringComparison.Ordinal)).ToList();
        Assert.Equal(["<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"], bytes);

        var decoder = new StreamingDecoder(tokenizer);
        var byteIds = bytes.Select(b => tokenizer.TokenId(b)!.Value).ToArray();
        Assert.Equal("", decoder.Append(byteIds[0]));
        Assert.Equal(1, decoder.PendingByteCount);
        Assert.Equal("", decoder.Append(byteIds[1]));
        Assert.Equal("", decoder.Append(byteIds[2]));
        Assert.Equal(3, decoder.PendingByteCount);
        Assert.Equal("🦙", decoder.Append(byteIds[3]));
        Assert.Equal(0, decoder.PendingByteCount);
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void ChineseSplitAcrossByteLevelTokens_ComesOutWhole()
    {
        // Qwen2 spells "飞" as two byte-level tokens, neither a whole character.
        var tokenizer = TestTokenizers.Qwen2;
        var ids = tokenizer.Encode("飞");
        Assert.True(ids.Count >= 1);
        var decoder = new StreamingDecoder(tokenizer);
        var chunks = ids.Select(decoder.Append).ToList();
        chunks.Add(decoder.Flush());
        Assert.Equal("飞", string.Concat(chunks));
        Assert.All(chunks, AssertWholeCharacters);
    }

    [Fact]
    public void IncompleteCharacterAtTheEnd_FlushesAsReplacementCharacter()
    {
        var tokenizer = TestTokenizers.LlamaSpm;
        var decoder = new StreamingDecoder(tokenizer);
        Assert.Equal("", decoder.Append(tokenizer.TokenId("<0xE4>")!.Value));
        Assert.Equal("", decoder.Append(tokenizer.TokenId("<0xBD>")!.Value));
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal(0, decoder.PendingByteCount);
        // After a flush the decoder starts over.
        Assert.Equal("a", decoder.Append(tokenizer.TokenId("<0x61>")!.Value));
    }

    [Fact]
    public void InvalidBytes_BecomeReplacementCharactersImmediately()
    {
        var tokenizer = TestTokenizers.LlamaSpm;
        var decoder = new StreamingDecoder(tokenizer);
        Assert.Equal("\uFFFD", decoder.Append(tokenizer.TokenId("<0xFF>")!.Value));
        Assert.Equal("", decoder.Append(tokenizer.TokenId("<0xE4>")!.Value));
        // A lead byte followed by ASCII: the lead byte alone is invalid, the ASCII letter is fine.
        Assert.Equal("\uFFFDx", decoder.Append(tokenizer.TokenId("<0x78>")!.Value));
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void SkipSpecial_LeavesOutControlTokens()
    {
        var tokenizer = TestTokenizers.Qwen2;
        var ids = tokenizer.Encode("<|im_start|>assistant\n你好<|im_end|>", parseSpecial: true);
        var keep = new StreamingDecoder(tokenizer);
        var skip = new StreamingDecoder(tokenizer, skipSpecial: true);
        Assert.Equal("<|im_start|>assistant\n你好<|im_end|>", keep.Append(ids) + keep.Flush());
        Assert.Equal("assistant\n你好", skip.Append(ids) + skip.Flush());
        Assert.Equal("assistant\n你好", tokenizer.Decode(ids, skipSpecial: true));
    }

    [Theory]
    [MemberData(nameof(TestTokenizers.AllNames), MemberType = typeof(TestTokenizers))]
    public void RandomTokenSequences_StreamExactlyAsDecode(string name)
    {
        // Random ids produce every kind of broken UTF-8; chunks must still join to Decode's result.
        var tokenizer = TestTokenizers.ByName(name);
        var random = new Random(1234);
        for (int round = 0; round < 200; round++)
        {
            var ids = Enumerable.Range(0, random.Next(1, 24)).Select(_ => random.Next(tokenizer.VocabSize)).ToArray();
            bool skip = round % 2 == 0;
            var decoder = new StreamingDecoder(tokenizer, skipSpecial: skip, stripLeadingSpace: tokenizer.AddSpacePrefix);
            var joined = new StringBuilder();
            foreach (int id in ids)
            {
                string chunk = decoder.Append(id);
                AssertWholeCharacters(chunk);
                joined.Append(chunk);
            }
            joined.Append(decoder.Flush());
            Assert.Equal(tokenizer.Decode(ids, skipSpecial: skip), joined.ToString());
        }
    }

    [Fact]
    public void LeadingSpace_IsKeptByDefault_AndStrippedOnRequest()
    {
        var tokenizer = TestTokenizers.LlamaSpm;
        var ids = tokenizer.Encode("Hello world");
        Assert.Equal(" Hello world", new StreamingDecoder(tokenizer).Append(ids));
        Assert.Equal("Hello world", new StreamingDecoder(tokenizer, stripLeadingSpace: true).Append(ids));
        Assert.Equal("Hello world", tokenizer.Decode(ids));
    }

    private static void AssertWholeCharacters(string chunk)
    {
        for (int i = 0; i < chunk.Length; i++)
        {
            if (char.IsHighSurrogate(chunk[i]))
            {
                Assert.True(i + 1 < chunk.Length && char.IsLowSurrogate(chunk[i + 1]), $"split surrogate pair in '{chunk}'");
                i++;
            }
            else
            {
                Assert.False(char.IsLowSurrogate(chunk[i]), $"lone low surrogate in '{chunk}'");
            }
        }
    }
}
