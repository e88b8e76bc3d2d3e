using System.Text;
using System.Text.Json;
using Flywheel.Tokenizers.Bpe;
using Flywheel.Tokenizers.Normalization;

namespace Flywheel.Tokenizers;

public static partial class TokenizerLoader
{
    /// <summary>
    /// Builds a byte-level BPE tokenizer from a Hugging Face <c>tokenizer.json</c> (model type BPE; merges as
    /// "a b" strings or [a, b] pairs; added_tokens; normalizer NFC/NFD/NFKC/NFKD/Lowercase; pre_tokenizer Split
    /// (Isolated), ByteLevel, Digits or a Sequence of them). BOS/EOS and add_bos/add_eos come from
    /// <paramref name="tokenizerConfigPath"/> (tokenizer_config.json; by default the one beside tokenizer.json)
    /// and from a TemplateProcessing post-processor.
    /// </summary>
    public static Tokenizer FromHuggingFace(string tokenizerJsonPath, string? tokenizerConfigPath = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJsonPath);
        if (tokenizerConfigPath is null)
        {
            var beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!, "tokenizer_config.json");
            tokenizerConfigPath = File.Exists(beside) ? beside : null;
        }

        using var json = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath));
        var root = json.RootElement;
        var model = root.GetProperty("model");
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()!
            : model.TryGetProperty("merges", out _) ? "BPE" : "unknown";
        if (type != "BPE")
        {
            throw new NotSupportedException($"tokenizer.json model type '{type}' is not supported; only BPE is");
        }

        var (texts, types) = ReadHfVocabulary(root, model, out var stripLeft, out var stripRight);
        var steps = new HfPreTokenizer();
        if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object)
        {
            steps.Add(pre);
        }
        bool byteLevelDecoder = root.TryGetProperty("decoder", out var decoder) && ContainsType(decoder, "ByteLevel");
        if (!steps.SawByteLevel && !byteLevelDecoder)
        {
            throw new NotSupportedException("only byte-level BPE tokenizer.json files are supported (no ByteLevel pre-tokenizer or decoder found)");
        }

        var vocab = new Vocabulary(texts, types, null, BytePairPiece);
        bool ignoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True;
        var encoder = new BpeEncoder(vocab, new PreTokenizer(steps.Patterns), ReadHfMerges(model), ignoreMerges);

        var normalize = ReadNormalizer(root.TryGetProperty("normalizer", out var n) ? n : default);
        if (steps.AddPrefixSpace)
        {
            var inner = normalize;
            // HF ByteLevel(add_prefix_space): a space goes before text that does not start with one.
            normalize = s =>
            {
                s = inner is null ? s : inner(s);
                return s.Length > 0 && s[0] != ' ' ? " " + s : s;
            };
        }

        var config = ReadConfig(tokenizerConfigPath);
        var (templateBos, templateEos) = ReadTemplateSpecials(root, vocab);
        int? bos = TokenOf(vocab, config, "bos_token") ?? templateBos;
        int? eos = TokenOf(vocab, config, "eos_token") ?? templateEos;
        bool addBos = ReadConfigBool(config, "add_bos_token") ?? templateBos is not null;
        bool addEos = ReadConfigBool(config, "add_eos_token") ?? templateEos is not null;

        return new Tokenizer(new TokenizerSetup
        {
            Kind = TokenizerKind.BytePairEncoding,
            Vocabulary = vocab,
            Encoder = encoder,
            PreTokenizerName = "tokenizer.json",
            BosId = bos,
            EosId = eos,
            UnknownId = TokenOf(vocab, config, "unk_token"),
            PaddingId = TokenOf(vocab, config, "pad_token"),
            AddBos = addBos,
            AddEos = addEos,
            AddSpacePrefix = false,
            Normalize = normalize,
            StripLeft = stripLeft,
            StripRight = stripRight,
        });
    }

    private static (string[] Texts, TokenType[] Types) ReadHfVocabulary(
        JsonElement root, JsonElement model, out HashSet<int> stripLeft, out HashSet<int> stripRight)
    {
        var entries = new List<(string Text, int Id)>();
        foreach (var item in model.GetProperty("vocab").EnumerateObject())
        {
            entries.Add((item.Name, item.Value.GetInt32()));
        }
        var added = new List<(string Text, int Id, bool Special)>();
        stripLeft = [];
        stripRight = [];
        if (root.TryGetProperty("added_tokens", out var addedTokens) && addedTokens.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in addedTokens.EnumerateArray())
            {
                int id = item.GetProperty("id").GetInt32();
                added.Add((item.GetProperty("content").GetString()!, id, item.TryGetProperty("special", out var sp) && sp.ValueKind == JsonValueKind.True));
                if (item.TryGetProperty("lstrip", out var ls) && ls.ValueKind == JsonValueKind.True)
                {
                    stripLeft.Add(id);
                }
                if (item.TryGetProperty("rstrip", out var rs) && rs.ValueKind == JsonValueKind.True)
                {
                    stripRight.Add(id);
                }
            }
        }

        int size = Math.Max(entries.Count == 0 ? 0 : entries.Max(e => e.Id), added.Count == 0 ? 0 : added.Max(a => a.Id)) + 1;
        var texts = new string[size];
        var types = new TokenType[size];
        foreach (var (text, id) in entries)
        {
            if (id < 0)
            {
                throw new InvalidDataException($"negative token id {id} in tokenizer.json");
            }
            texts[id] = text;
            types[id] = TokenType.Normal;
        }
        foreach (var (text, id, special) in added)
        {
            texts[id] = text;
            types[id] = special ? TokenType.Control : TokenType.UserDefined;
        }
        for (int id = 0; id < size; id++)
        {
            if (texts[id] is null)
            {
                // A hole in the id space; convert_hf_to_gguf.py fills these the same way.
                texts[id] = $"[PAD{id}]";
                types[id] = TokenType.Unused;
            }
        }
        return (texts, types);
    }

    private static List<MergeRule> ReadHfMerges(JsonElement model)
    {
        var merges = new List<MergeRule>();
        if (!model.TryGetProperty("merges", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return merges;
        }
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                merges.Add(MergeRule.FromLine(item.GetString()!));
            }
            else if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() == 2)
            {
                merges.Add(MergeRule.FromPair(item[0].GetString()!, item[1].GetString()!));
            }
            else
            {
                throw new InvalidDataException($"tokenizer.json merge entry is neither \"a b\" nor [a, b]: {item}");
            }
        }
        return merges;
    }

    private static Func<string, string>? ReadNormalizer(JsonElement normalizer)
    {
        if (normalizer.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        string type = normalizer.GetProperty("type").GetString()!;
        switch (type)
        {
            // Our own tables: with InvariantGlobalization string.Normalize is a no-op.
            case "NFC": return UnicodeNormalizer.ToNfc;
            case "NFD": return UnicodeNormalizer.ToNfd;
            case "Lowercase": return s => s.ToLowerInvariant();
            case "Sequence":
                {
                    var parts = normalizer.GetProperty("normalizers").EnumerateArray().Select(ReadNormalizer).OfType<Func<string, string>>().ToArray();
                    return parts.Length == 0 ? null : s => parts.Aggregate(s, (acc, f) => f(acc));
                }
            default:
                // NFKC/NFKD would need the compatibility mappings too; no supported model family uses them.
                throw new NotSupportedException($"tokenizer.json normalizer '{type}' is not supported");
        }
    }

    private static (int? Bos, int? Eos) ReadTemplateSpecials(JsonElement root, Vocabulary vocab) =>
        root.TryGetProperty("post_processor", out var post) ? ReadProcessorSpecials(post, vocab) : (null, null);

    /// <summary>BOS/EOS a TemplateProcessing post-processor puts around a single sequence (looked for inside a Sequence too).</summary>
    private static (int? Bos, int? Eos) ReadProcessorSpecials(JsonElement post, Vocabulary vocab)
    {
        if (post.ValueKind != JsonValueKind.Object)
        {
            return (null, null);
        }
        string? type = post.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type == "Sequence" && post.TryGetProperty("processors", out var processors))
        {
            foreach (var inner in processors.EnumerateArray())
            {
                var found = ReadProcessorSpecials(inner, vocab);
                if (found != (null, null))
                {
                    return found;
                }
            }
            return (null, null);
        }
        if (type != "TemplateProcessing" || !post.TryGetProperty("single", out var single) || single.GetArrayLength() == 0)
        {
            return (null, null);
        }
        int? SpecialAt(JsonElement piece) =>
            piece.TryGetProperty("SpecialToken", out var special) ? vocab.Find(special.GetProperty("id").GetString()!) : null;
        return (SpecialAt(single[0]), SpecialAt(single[single.GetArrayLength() - 1]));
    }

    private static JsonElement? ReadConfig(string? path)
    {
        if (path is null)
        {
            return null;
        }
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.Clone();
    }

    private static int? TokenOf(Vocabulary vocab, JsonElement? config, string key)
    {
        if (config is not { } c || !c.TryGetProperty(key, out var value))
        {
            return null;
        }
        string? text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) => content.GetString(),
            _ => null,
        };
        return text is null ? null : vocab.Find(text);
    }

    private static bool? ReadConfigBool(JsonElement? config, string key) =>
        config is { } c && c.TryGetProperty(key, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;

    private static bool ContainsType(JsonElement element, string type)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            if (element.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == type)
            {
                return true;
            }
            foreach (var property in element.EnumerateObject())
            {
                if (ContainsType(property.Value, type))
                {
                    return true;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                if (ContainsType(item, type))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
