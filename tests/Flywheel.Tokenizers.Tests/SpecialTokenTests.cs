namespace Flywheel.Tokenizers.Tests;

public sealed class SpecialTokenTests
{
    [Fact]
    public void ControlTokenText_IsOneTokenOnlyWhenParsingSpecials()
    {
        var tokenizer = TestTokenizers.Qwen2;
        const string text = "<|im_start|>user\nhi<|im_end|>";
        var parsed = tokenizer.Encode(text, parseSpecial: true);
        Assert.Equal(151644, parsed[0]);
        Assert.Equal(151645, parsed[^1]);

        var plain = tokenizer.Encode(text, parseSpecial: false);
        Assert.DoesNotContain(151644, plain);
        Assert.DoesNotContain(151645, plain);
        Assert.Equal(text, tokenizer.Decode(plain));
        Assert.Equal(text, tokenizer.Decode(parsed));
    }

    [Fact]
    public void UserDefinedAddedTokens_AreAlwaysMatched()
    {
        // Qwen3's <think> is an added token with special = false: HF tokenizers and llama.cpp split it out
        // whether or not specials are parsed.
        var tokenizer = TestTokenizers.Qwen3;
        int think = tokenizer.TokenId("<think>")!.Value;
        Assert.Equal(TokenType.UserDefined, tokenizer.GetTokenType(think));
        Assert.Equal(think, tokenizer.Encode("<think>\nhmm", parseSpecial: false)[0]);
        Assert.Equal(think, tokenizer.Encode("<think>\nhmm", parseSpecial: true)[0]);
        // Not control, so skipping specials keeps it.
        Assert.Equal("<think>", tokenizer.Decode([think], skipSpecial: true));
    }

    [Fact]
    public void ControlLookingTokens_AreControl_AsLlamaCppMarksThem()
    {
        // Qwen's <|fim_prefix|> is a non-special added token in tokenizer.json; llama.cpp gives it control type.
        var tokenizer = TestTokenizers.Qwen3;
        int fim = tokenizer.TokenId("<|fim_prefix|>")!.Value;
        Assert.Equal(TokenType.Control, tokenizer.GetTokenType(fim));
        Assert.DoesNotContain(fim, tokenizer.Encode("<|fim_prefix|>x", parseSpecial: false));
        Assert.Equal(fim, tokenizer.Encode("<|fim_prefix|>x", parseSpecial: true)[0]);
    }

    [Fact]
    public void LongestSpecialTokenWins()
    {
        var tokenizer = TestTokenizers.LlamaBpe;
        var ids = tokenizer.Encode("<|start_header_id|>system<|end_header_id|>", parseSpecial: true);
        Assert.Equal(tokenizer.TokenId("<|start_header_id|>"), ids[0]);
        Assert.Equal(tokenizer.TokenId("<|end_header_id|>"), ids[^1]);
        Assert.Equal(3, ids.Count);
    }

    [Fact]
    public void SentencePiece_PutsTheDummySpaceAfterSpecialTokens()
    {
        // llama.cpp: a text fragment right after a special token gets the dummy prefix too.
        var tokenizer = TestTokenizers.LlamaSpm;
        var ids = tokenizer.Encode("<s>Hello</s>", parseSpecial: true);
        Assert.Equal([1, .. tokenizer.Encode("Hello"), 2], ids);
        Assert.Equal("▁Hello", tokenizer.TokenText(ids[1]));
    }

    [Theory]
    [InlineData("llama-bpe", true, 128000)]
    [InlineData("llama-spm", true, 1)]
    [InlineData("qwen2", false, null)]
    [InlineData("gpt-2", false, null)]
    [InlineData("deepseek-llm", true, 100000)]
    public void AddSpecial_AddsBosWhenTheModelAsks(string vocabulary, bool addsBos, int? bos)
    {
        var tokenizer = TestTokenizers.ByName(vocabulary);
        Assert.Equal(addsBos, tokenizer.AddBos);
        var ids = tokenizer.Encode("Hello", addSpecial: true);
        if (addsBos)
        {
            Assert.Equal(bos, ids[0]);
            Assert.Equal(tokenizer.Encode("Hello"), ids.Skip(1));
        }
        else
        {
            Assert.Equal(tokenizer.Encode("Hello"), ids);
        }
        Assert.False(tokenizer.AddEos);
    }

    [Theory]
    [InlineData("qwen2", new[] { "<|im_end|>", "<|endoftext|>" })]
    [InlineData("qwen3", new[] { "<|im_end|>", "<|endoftext|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>" })]
    [InlineData("llama-bpe", new[] { "<|eot_id|>", "<|end_of_text|>" })]
    [InlineData("llama-spm", new[] { "</s>" })]
    [InlineData("gpt-2", new[] { "<|endoftext|>" })]
    [InlineData("deepseek-llm", new[] { "<｜end▁of▁sentence｜>" })]
    [InlineData("smollm2", new[] { "<|im_end|>", "<|endoftext|>" })]
    public void EndOfGeneration_CoversEosAndTurnEnds(string vocabulary, string[] texts)
    {
        var tokenizer = TestTokenizers.ByName(vocabulary);
        foreach (var text in texts)
        {
            Assert.Contains(tokenizer.TokenId(text)!.Value, tokenizer.EndOfGenerationIds);
        }
        if (tokenizer.EosId is int eos)
        {
            Assert.Contains(eos, tokenizer.EndOfGenerationIds);
        }
        Assert.DoesNotContain(tokenizer.Encode("a")[0], tokenizer.EndOfGenerationIds);
    }

    [Fact]
    public void SpecialIds_ComeFromMetadata()
    {
        Assert.Equal(128009, TestTokenizers.LlamaBpe.EotId);
        Assert.Null(TestTokenizers.LlamaBpe.EomId); // Llama-3.0 has no <|eom_id|> (3.1 added it)
        Assert.Equal(151645, TestTokenizers.Qwen2.EotId);
        Assert.Equal(151645, TestTokenizers.Qwen3.EosId); // tokenizer_config.json: eos_token <|im_end|>
        Assert.Null(TestTokenizers.Qwen3.BosId);
        Assert.Equal(0, TestTokenizers.LlamaSpm.UnknownId);
    }

    [Fact]
    public void DecodeSkipSpecial_DropsControlTokensOnly()
    {
        var tokenizer = TestTokenizers.LlamaBpe;
        var ids = tokenizer.Encode("<|begin_of_text|>Hi there<|eot_id|>", parseSpecial: true);
        Assert.Equal("<|begin_of_text|>Hi there<|eot_id|>", tokenizer.Decode(ids));
        Assert.Equal("Hi there", tokenizer.Decode(ids, skipSpecial: true));
    }
}
