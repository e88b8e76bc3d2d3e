namespace Flywheel.Tokenizers.Bpe;

/// <summary>
/// The split regexes behind each GGUF <c>tokenizer.ggml.pre</c> name, with the per-family switches llama.cpp sets
/// for them (src/llama-vocab.cpp, llama_vocab::impl::load and llm_tokenizer_bpe). Patterns are the originals from
/// the models' tokenizer.json where llama.cpp had to rewrite them for std::regex (case-insensitive groups,
/// \p{Lu}/\p{Ll}, possessive quantifiers); <see cref="RegexTranslator"/> makes those run on .NET.
/// Families that need code rather than a regex in llama.cpp (kimi-k2, afmoe digits) or that are not byte-level
/// (gemma4, sarvam-moe, whitespace) are not listed.
/// </summary>
internal static class PreTokenizerFamilies
{
    /// <summary>GPT-2's pattern as HF's ByteLevel pre-tokenizer writes it (llama.cpp drops the final \s+, which
    /// never changes a split: whatever it would match is left between matches and becomes a piece anyway).</summary>
    public const string Gpt2 = """'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""";

    public const string Llama3 = """(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""";

    public const string Qwen2 = """(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""";

    private const string Qwen35 = """(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""";

    private const string Jais2 = """(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1}""";

    private const string Gpt4o = """[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""";

    private const string Tekken = """[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""";

    private const string Poro = """ ?[^(\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+""";

    private static readonly string[] DeepSeekLlm =
    [
        """[\r\n]""",
        """\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+""",
        """\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+""",
        """\s+$""",
        """[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+""",
        """\p{N}+""",
    ];

    private static readonly string[] DeepSeekCoder =
    [
        """[\r\n]""",
        """\s?\p{L}+""",
        """\s?\p{P}+""",
        """[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+""",
        """\p{N}""",
    ];

    private static readonly string[] DeepSeekV3 =
    [
        """\p{N}{1,3}""",
        """[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+""",
        """[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    ];

    private static readonly string[] Spark25 =
    [
        """\p{N}{1,3}""",
        """[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+""",
        """[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+""",
        """\p{N}""",
    ];

    private static readonly string[] Youtu =
    [
        """[\uAC00-\uD7A3\u3131-\u318E]+|[\uFF01\u2026\u201C\u201D\u2018\u2019\u2014\uFF1A\uFF1B\uFF0C\u3001-\u303F\uFE30-\uFE4F]+|[\u3105-\u312F]+|[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+""",
        """[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    ];

    private static readonly string[] Falcon =
    [
        """[\p{P}\$\+<=>\^~\|`]+""",
        """'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)""",
        """[0-9][0-9][0-9]""",
    ];

    private static readonly string[] Chameleon =
    [
        """<sentinel:[0-9]+>""",
        """(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z""",
        """([\t\n]|    |  )""",
        """\p{N}""",
        """[\p{P}!-/:-@\[-`{-~]""",
        """'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)""",
    ];

    private static readonly string[] Default =
    [
        """[\p{P}\$\+<=>\^~\|]+""",
        """'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)""",
        """\p{N}+""",
        """[0-9][0-9][0-9]""",
    ];

    private static readonly Dictionary<string, PreTokenizerFamily> ByName = Build();

    /// <summary>The family for a <c>tokenizer.ggml.pre</c> value; an empty or missing name is llama.cpp's "default".</summary>
    public static bool TryGet(string? name, out PreTokenizerFamily family) =>
        ByName.TryGetValue(string.IsNullOrEmpty(name) ? "default" : name, out family!);

    public static IReadOnlyCollection<string> Names => ByName.Keys;

    private static Dictionary<string, PreTokenizerFamily> Build()
    {
        var map = new Dictionary<string, PreTokenizerFamily>(StringComparer.Ordinal);
        void Add(PreTokenizerFamily family, params string[] names)
        {
            foreach (var name in names)
            {
                map[name] = family;
            }
        }

        // ignore_merges: a piece that is itself a token is emitted whole (HF BPE's ignore_merges).
        Add(new([Llama3], IgnoreMerges: true, AddBos: true),
            "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano");
        Add(new([Llama3]), "dbrx", "smaug-bpe", "glm4", "chatglm-bpe");
        Add(new([Jais2]), "jais-2");
        Add(new(DeepSeekLlm), "deepseek-llm");
        Add(new(DeepSeekCoder), "deepseek-coder");
        Add(new(DeepSeekV3), "deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4");
        Add(new(Spark25), "spark2_5");
        Add(new(Youtu, IgnoreMerges: true), "youtu");
        Add(new(Falcon), "falcon");
        Add(new(["""\p{N}""", Gpt2]),
            "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2");
        Add(new([Gpt2]),
            "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
            "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion",
            "granite-docling", "exaone4");
        Add(new([Qwen2]),
            "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open", "grok-2");
        Add(new([Qwen35]), "qwen35");
        Add(new([Poro]), "poro-chat", "bloom", "gpt3-finnish");
        Add(new([Poro, """\p{N}"""]), "viking");
        Add(new([Tekken], IgnoreMerges: true, AddBos: true), "tekken");
        Add(new(Chameleon, AddBos: true), "chameleon");
        Add(new([Gpt4o]), "gpt-4o", "llama4", "kanana2", "talkie");
        Add(new([Gpt4o], IgnoreMerges: true), "granite-embed-multi-97m");
        Add(new(["""\d{1,3}(?=(?:\d{3})*\b)""", Gpt4o]), "tiny_aya", "cohere2moe");
        Add(new(["""\p{N}+""", """(?=(\d{3})+(?!\d))"""]), "superbpe");
        Add(new(["""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""]),
            "bailingmoe", "bailingmoe2", "llada-moe");
        Add(new(["""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"""]),
            "seed-coder");
        Add(new(["""[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""]), "ufakzeka");
        Add(new(["""[^\n]+|[\n]+""", Qwen2]), "laguna");
        Add(new(["""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+"""]),
            "exaone-moe");
        Add(new(["""\p{N}{1,3}""", """(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""], IgnoreMerges: true),
            "minicpm5");
        Add(new(Default), "default");
        return map;
    }
}

/// <summary>A pre-tokenizer family: its split patterns and the switches llama.cpp sets with it.</summary>
/// <param name="Patterns">Regexes applied one after another (Oniguruma syntax).</param>
/// <param name="IgnoreMerges">Emit a piece that is itself a token without merging (Llama-3).</param>
/// <param name="AddBos">llama.cpp's default for add_bos when the GGUF file does not say.</param>
internal sealed record PreTokenizerFamily(IReadOnlyList<string> Patterns, bool IgnoreMerges = false, bool AddBos = false);
