namespace Flywheel.Formats.Gguf;

/// <summary>
/// Metadata key names, as the GGUF specification and llama.cpp's writers spell them. Keys are used from here
/// only, so a spelling lives in one place. Per-architecture keys are formed with <see cref="Arch"/>.
/// </summary>
public static class GgufKeys
{
    public const string Architecture = "general.architecture";
    public const string Name = "general.name";
    public const string Alignment = "general.alignment";
    public const string FileType = "general.file_type";
    public const string QuantizationVersion = "general.quantization_version";

    public const string ContextLength = "context_length";
    public const string EmbeddingLength = "embedding_length";
    public const string FeedForwardLength = "feed_forward_length";
    public const string BlockCount = "block_count";
    public const string HeadCount = "attention.head_count";
    public const string HeadCountKv = "attention.head_count_kv";
    public const string KeyLength = "attention.key_length";
    public const string ValueLength = "attention.value_length";
    public const string LayerNormRmsEpsilon = "attention.layer_norm_rms_epsilon";
    public const string RopeDimensionCount = "rope.dimension_count";
    public const string RopeFreqBase = "rope.freq_base";
    public const string RopeScalingType = "rope.scaling.type";
    public const string RopeScalingFactor = "rope.scaling.factor";
    public const string RopeScalingOriginalContextLength = "rope.scaling.original_context_length";
    public const string VocabSize = "vocab_size";

    public const string TokenizerModel = "tokenizer.ggml.model";
    public const string TokenizerPre = "tokenizer.ggml.pre";
    public const string TokenizerTokens = "tokenizer.ggml.tokens";
    public const string TokenizerScores = "tokenizer.ggml.scores";
    public const string TokenizerTokenType = "tokenizer.ggml.token_type";
    public const string TokenizerMerges = "tokenizer.ggml.merges";
    public const string TokenizerBosId = "tokenizer.ggml.bos_token_id";
    public const string TokenizerEosId = "tokenizer.ggml.eos_token_id";
    public const string TokenizerEotId = "tokenizer.ggml.eot_token_id";
    public const string TokenizerEomId = "tokenizer.ggml.eom_token_id";
    public const string TokenizerUnknownId = "tokenizer.ggml.unknown_token_id";
    public const string TokenizerPaddingId = "tokenizer.ggml.padding_token_id";
    public const string TokenizerSeparatorId = "tokenizer.ggml.seperator_token_id";
    public const string TokenizerAddBos = "tokenizer.ggml.add_bos_token";
    public const string TokenizerAddEos = "tokenizer.ggml.add_eos_token";
    public const string TokenizerAddSpacePrefix = "tokenizer.ggml.add_space_prefix";
    public const string ChatTemplate = "tokenizer.chat_template";

    /// <summary>Default data alignment when <see cref="Alignment"/> is absent (GGUF spec: 32).</summary>
    public const int DefaultAlignment = 32;

    /// <summary>An architecture-scoped key, e.g. <c>Arch("qwen2", ContextLength)</c> is <c>qwen2.context_length</c>.</summary>
    public static string Arch(string architecture, string key) => $"{architecture}.{key}";
}
