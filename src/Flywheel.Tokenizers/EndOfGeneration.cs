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
        "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>",
        "<eos>", "<turn|>", "<｜end▁of▁sentence｜>",
    ];

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
        foreach (var text in EogTexts)
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
