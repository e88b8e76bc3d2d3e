namespace Flywheel.Cli.Commands;

/// <summary>
/// The hyperparameters of a decoder that <c>flywheel synth</c> fills with random weights. The named shapes copy the
/// published configs (Hugging Face config.json of each model), so a synthesized file costs what the real one costs
/// per token: speed does not depend on the weight values.
/// </summary>
internal sealed record SynthShape(
    string Name,
    string Architecture,
    int Hidden,
    int Layers,
    int Heads,
    int KvHeads,
    int FeedForward,
    int? Vocab,
    float RopeTheta,
    float RmsEpsilon,
    int ContextLength,
    bool TiedEmbeddings)
{
    public int HeadDim => Hidden / Heads;

    /// <summary>Shapes by name. Vocab null means "as many rows as the vocabulary file has tokens".</summary>
    public static readonly IReadOnlyDictionary<string, SynthShape> Known = new Dictionary<string, SynthShape>(StringComparer.OrdinalIgnoreCase)
    {
        // Qwen/Qwen2.5-0.5B config.json: hidden_size 896, num_hidden_layers 24, num_attention_heads 14,
        // num_key_value_heads 2, intermediate_size 4864, vocab_size 151936, rope_theta 1e6, rms_norm_eps 1e-6,
        // max_position_embeddings 32768, tie_word_embeddings true.
        ["qwen2.5-0.5b"] = new("qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 4864, 151936, 1e6f, 1e-6f, 32768, true),
        // Qwen/Qwen2.5-1.5B config.json: hidden 1536, 28 layers, 12 heads, 2 KV heads, FFN 8960, tied embeddings.
        ["qwen2.5-1.5b"] = new("qwen2.5-1.5b", "qwen2", 1536, 28, 12, 2, 8960, 151936, 1e6f, 1e-6f, 32768, true),
        // A small shape for tests: row lengths of 128 are not a multiple of 256, so the K-quant fallbacks of a
        // Q4_K_M mixture show up; 512 is, so ffn_down keeps its K-quants.
        ["qwen2-test"] = new("qwen2-test", "qwen2", 128, 2, 4, 2, 512, null, 1e6f, 1e-6f, 4096, true),
    };
}
