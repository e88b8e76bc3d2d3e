namespace Flywheel.Tokenizers;

/// <summary>
/// Finds the tokens that end generation. Vocabularies rarely say which they are, so, like llama.cpp
/// (llama_vocab::impl::load, "maintain a list of tokens that cause end-of-generation"), tokens are also
/// recognised by their text.
/// </summary>
internal static class EndOfGeneration
{
    /// <summary>End-of-turn texts, in the order llama.cpp tries them for its EOT id.</summary>
    private static readonly string[] EotTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
        "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ];

    /// <summary>Every text llama.cpp treats as end of generation.</summary>
    private static readonly string[] EogTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>",
        "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ];

    /// <summary>Fill-in-the-middle tokens (llama.cpp's FIM_PRE/SUF/MID lists); also marked as control.</summary>
    private static readonly string[] FimTexts =
    [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
    ];

    /// <summary>FIM pad / repo / file-separator tokens: control tokens that also end generation in llama.cpp.</summary>
    private static readonly string[] FimEndTexts =
    [
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
        "<|file_sep|>",
    ];

    /// <summary>
    /// Gives control type to tokens that look like control tokens by their text but were not marked so in the
    /// file ("control-looking token ... its type will be overridden" in llama.cpp), so that, as there, they are
    /// matched only when parsing specials and are left out when skipping specials. A token that changes type
    /// decodes to its plain text.
    /// </summary>
    public static void MarkControlTokens(Vocabulary vocab)
    {
        // Gemma 4 / PaddleOCR: with "<|tool_response>" present, "</s>" is an ordinary token.
        bool plainEndOfSequence = vocab.Find("<|tool_response>") is not null;
        foreach (var text in EotTexts.Concat(EogTexts).Concat(FimTexts).Concat(FimEndTexts))
        {
            if (plainEndOfSequence && text == "</s>")
            {
                continue;
            }
            if (vocab.Find(text) is int id && vocab.Types[id] != TokenType.Control)
            {
                vocab.Types[id] = TokenType.Control;
                vocab.Pieces[id] = System.Text.Encoding.UTF8.GetBytes(text);
            }
        }
        // gpt-oss: these structure tokens are always rendered (llama.cpp sets them USER_DEFINED).
        foreach (var text in new[] { "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>" })
        {
            if (vocab.Find(text) is int id)
            {
                vocab.Types[id] = TokenType.UserDefined;
                vocab.Pieces[id] = System.Text.Encoding.UTF8.GetBytes(text);
            }
        }
    }

    public static int? FindEot(Vocabulary vocab)
    {
        foreach (var text in EotTexts)
        {
            if (vocab.Find(text) is int id)
            {
                return id;
            }
        }
        return null;
    }

    public static int? FindEom(Vocabulary vocab) => vocab.Find("<|eom_id|>");

    public static IReadOnlySet<int> Collect(Vocabulary vocab, int? eos, int? eot, int? eom)
    {
        var ids = new HashSet<int>();
        foreach (var text in EogTexts.Concat(FimEndTexts))
        {
            if (vocab.Find(text) is int id)
            {
                ids.Add(id);
            }
        }
        // o200k_harmony: "<|end|>" closes a message but not the generation when "<|return|>" and "<|call|>" exist.
        if (vocab.Find("<|end|>") is int end && vocab.Find("<|return|>") is not null && vocab.Find("<|call|>") is not null)
        {
            ids.Remove(end);
        }
        if (vocab.Find("</s>") is int endOfSequence && vocab.Find("<|tool_response>") is not null)
        {
            ids.Remove(endOfSequence);
        }
        foreach (var id in new[] { eos, eot, eom })
        {
            if (id is int v)
            {
                ids.Add(v);
            }
        }
        return ids;
    }
}
