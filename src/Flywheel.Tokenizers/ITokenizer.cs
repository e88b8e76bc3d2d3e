namespace Flywheel.Tokenizers;

/// <summary>
/// Text to token ids and back. Implementations are immutable after loading: every member is safe to call from
/// many threads at once. A <see cref="StreamingDecoder"/> holds per-stream state and is not shared.
/// </summary>
public interface ITokenizer
{
    TokenizerKind Kind { get; }

    /// <summary>Number of ids, i.e. one more than the largest id (added tokens included).</summary>
    int VocabSize { get; }

    int? BosId { get; }
    int? EosId { get; }

    /// <summary>End of turn (&lt;|eot_id|&gt;, &lt;|im_end|&gt;, ...), from metadata or recognised by its text.</summary>
    int? EotId { get; }

    /// <summary>End of message (Llama-3.1's &lt;|eom_id|&gt;).</summary>
    int? EomId { get; }
    int? UnknownId { get; }
    int? PaddingId { get; }

    /// <summary>Whether <see cref="Encode"/> with <c>addSpecial</c> puts BOS first / EOS last.</summary>
    bool AddBos { get; }
    bool AddEos { get; }

    /// <summary>SentencePiece only: a space is put before the text (and dropped again when decoding).</summary>
    bool AddSpacePrefix { get; }

    /// <summary>Ids that end generation: EOS, EOT, EOM and tokens such as &lt;|im_end|&gt;, &lt;|eot_id|&gt;, &lt;|endoftext|&gt;.</summary>
    IReadOnlySet<int> EndOfGenerationIds { get; }

    /// <summary>
    /// Tokenizes <paramref name="text"/>. <paramref name="addSpecial"/> adds BOS/EOS as the model asks
    /// (<see cref="AddBos"/>, <see cref="AddEos"/>). With <paramref name="parseSpecial"/> the text of control tokens
    /// (e.g. <c>&lt;|im_start|&gt;</c>) becomes that token; otherwise it is tokenized as plain text. Lone surrogates
    /// in <paramref name="text"/> are read as U+FFFD.
    /// </summary>
    IReadOnlyList<int> Encode(string text, bool addSpecial = false, bool parseSpecial = false);

    /// <summary>
    /// Concatenates the tokens' bytes and reads them as UTF-8 (invalid sequences become U+FFFD).
    /// <paramref name="skipSpecial"/> leaves out control and unknown tokens.
    /// </summary>
    string Decode(IEnumerable<int> ids, bool skipSpecial = false);

    /// <summary>The bytes a token stands for when decoding (control tokens: their text). Empty for unused tokens.</summary>
    byte[] TokenBytes(int id);

    /// <summary>The token's text as stored in the vocabulary (byte-level BPE: the GPT-2 character mapping, SPM: with ▁).</summary>
    string TokenText(int id);

    TokenType GetTokenType(int id);

    /// <summary>The id whose vocabulary text is exactly <paramref name="text"/>, if any.</summary>
    int? TokenId(string text);
}
