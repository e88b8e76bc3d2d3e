using System.Globalization;
using System.Text;
using Flywheel.Formats.Gguf;
using Flywheel.Tokenizers.Bpe;
using Flywheel.Tokenizers.SentencePiece;

namespace Flywheel.Tokenizers;

public static partial class TokenizerLoader
{
    /// <summary>
    /// Builds the tokenizer described by <paramref name="file"/>'s <c>tokenizer.ggml.*</c> metadata:
    /// model "gpt2" (byte-level BPE, pre-tokenizer from <c>tokenizer.ggml.pre</c>) or "llama" (SentencePiece).
    /// Defaults for absent keys follow llama.cpp's llama_vocab::impl::load.
    /// </summary>
    public static Tokenizer FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string model = file.TryGetString(GgufKeys.TokenizerModel)
            ?? throw new InvalidDataException($"'{file.Path}' has no {GgufKeys.TokenizerModel}");
        var tokens = file.TryGetArray(GgufKeys.TokenizerTokens)?.Items as string[]
            ?? throw new InvalidDataException($"'{file.Path}' has no string array {GgufKeys.TokenizerTokens}");
        var types = ReadTokenTypes(file, tokens.Length);
        var scores = ReadScores(file, tokens.Length);
        bool? addBosKey = ReadBool(file, GgufKeys.TokenizerAddBos);
        bool? addEosKey = ReadBool(file, GgufKeys.TokenizerAddEos);
        bool? addSpaceKey = ReadBool(file, GgufKeys.TokenizerAddSpacePrefix);

        switch (model)
        {
            case "gpt2":
                {
                    string? pre = file.TryGetString(GgufKeys.TokenizerPre);
                    if (!PreTokenizerFamilies.TryGet(pre, out var family))
                    {
                        throw new NotSupportedException($"pre-tokenizer '{pre}' ({GgufKeys.TokenizerPre}) is not supported");
                    }
                    var vocab = new Vocabulary(tokens, types, scores, BytePairPiece);
                    var mergeTexts = file.TryGetArray(GgufKeys.TokenizerMerges)?.Items as string[]
                        ?? throw new InvalidDataException($"'{file.Path}' has no string array {GgufKeys.TokenizerMerges}");
                    var encoder = new BpeEncoder(vocab, new PreTokenizer(family.Patterns), [.. mergeTexts.Select(MergeRule.FromLine)], family.IgnoreMerges);
                    return new Tokenizer(new TokenizerSetup
                    {
                        Kind = TokenizerKind.BytePairEncoding,
                        Vocabulary = vocab,
                        Encoder = encoder,
                        PreTokenizerName = string.IsNullOrEmpty(pre) ? "default" : pre,
                        BosId = ReadId(file, GgufKeys.TokenizerBosId),
                        EosId = ReadId(file, GgufKeys.TokenizerEosId),
                        EotId = ReadId(file, GgufKeys.TokenizerEotId),
                        EomId = ReadId(file, GgufKeys.TokenizerEomId),
                        UnknownId = ReadId(file, GgufKeys.TokenizerUnknownId),
                        PaddingId = ReadId(file, GgufKeys.TokenizerPaddingId),
                        AddBos = addBosKey ?? family.AddBos,
                        AddEos = addEosKey ?? false,
                        AddSpacePrefix = false,
                    });
                }
            case "llama":
                {
                    var vocab = new Vocabulary(tokens, types, scores, SentencePiecePiece);
                    // llama.cpp's SPM defaults: BOS 1, EOS 2, UNK 0, dummy prefix on, BOS added.
                    int? unknown = ReadId(file, GgufKeys.TokenizerUnknownId) ?? 0;
                    bool addSpace = addSpaceKey ?? true;
                    return new Tokenizer(new TokenizerSetup
                    {
                        Kind = TokenizerKind.SentencePiece,
                        Vocabulary = vocab,
                        Encoder = new SpmEncoder(vocab, addSpace, unknown),
                        BosId = ReadId(file, GgufKeys.TokenizerBosId) ?? 1,
                        EosId = ReadId(file, GgufKeys.TokenizerEosId) ?? 2,
                        EotId = ReadId(file, GgufKeys.TokenizerEotId),
                        EomId = ReadId(file, GgufKeys.TokenizerEomId),
                        UnknownId = unknown,
                        PaddingId = ReadId(file, GgufKeys.TokenizerPaddingId),
                        AddBos = addBosKey ?? true,
                        AddEos = addEosKey ?? false,
                        AddSpacePrefix = addSpace,
                    });
                }
            default:
                throw new NotSupportedException($"tokenizer model '{model}' ({GgufKeys.TokenizerModel}) is not supported; only 'gpt2' (BPE) and 'llama' (SentencePiece) are");
        }
    }

    /// <summary>Decoded bytes of a byte-level BPE token (llama.cpp's token_to_piece for LLAMA_VOCAB_TYPE_BPE).</summary>
    internal static byte[] BytePairPiece(string text, TokenType type) => type switch
    {
        TokenType.Normal => ByteLevel.Decode(text),
        TokenType.Control or TokenType.UserDefined or TokenType.Unknown => Encoding.UTF8.GetBytes(text),
        TokenType.Byte => ByteTokenValue(text) is byte b ? [b] : Encoding.UTF8.GetBytes(text),
        _ => [],
    };

    /// <summary>Decoded bytes of a SentencePiece token: ▁ is a space, &lt;0xXX&gt; is one byte.</summary>
    internal static byte[] SentencePiecePiece(string text, TokenType type) => type switch
    {
        TokenType.Normal => Encoding.UTF8.GetBytes(text.Replace('\u2581', ' ')),
        TokenType.Control or TokenType.UserDefined or TokenType.Unknown => Encoding.UTF8.GetBytes(text),
        TokenType.Byte => ByteTokenValue(text) is byte b ? [b] : Encoding.UTF8.GetBytes(text),
        _ => [],
    };

    private static byte? ByteTokenValue(string text) =>
        text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
        && byte.TryParse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b)
            ? b
            : null;

    private static TokenType[] ReadTokenTypes(GgufFile file, int count)
    {
        var types = new TokenType[count];
        var array = file.TryGetArray(GgufKeys.TokenizerTokenType);
        if (array is null)
        {
            Array.Fill(types, TokenType.Normal);
            return types;
        }
        if (array.Length < count)
        {
            throw new InvalidDataException($"{GgufKeys.TokenizerTokenType} has {array.Length} entries for {count} tokens");
        }
        for (int i = 0; i < count; i++)
        {
            long raw = Convert.ToInt64(array.Items.GetValue(i), CultureInfo.InvariantCulture);
            types[i] = raw is >= 0 and <= 6 ? (TokenType)raw : TokenType.Undefined;
        }
        return types;
    }

    private static float[]? ReadScores(GgufFile file, int count)
    {
        var array = file.TryGetArray(GgufKeys.TokenizerScores);
        if (array is null)
        {
            return null;
        }
        if (array.Length < count)
        {
            throw new InvalidDataException($"{GgufKeys.TokenizerScores} has {array.Length} entries for {count} tokens");
        }
        if (array.Items is float[] floats)
        {
            return floats;
        }
        var scores = new float[count];
        for (int i = 0; i < count; i++)
        {
            scores[i] = Convert.ToSingle(array.Items.GetValue(i), CultureInfo.InvariantCulture);
        }
        return scores;
    }

    private static int? ReadId(GgufFile file, string key)
    {
        long? value = file.TryGetInt64(key);
        return value is >= 0 and <= int.MaxValue ? (int)value.Value : null;
    }

    private static bool? ReadBool(GgufFile file, string key) =>
        file.TryGetValue(key, out var value) ? value.AsBool() : null;
}
