using Flywheel.Kernels;

namespace Flywheel.Models;

/// <summary>
/// The hyperparameters of a decoder-only transformer, independent of the file it came from. Architectures fill this
/// from metadata (<c>Architectures/&lt;Arch&gt;/</c>); the shared layers read only this.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>GGUF architecture name: llama, qwen2, qwen3.</summary>
    public required string Architecture { get; init; }
    public required int EmbeddingLength { get; init; }
    public required int FeedForwardLength { get; init; }
    public required int LayerCount { get; init; }
    public required int HeadCount { get; init; }
    public required int KvHeadCount { get; init; }
    /// <summary>Per-head size of queries and keys (and values: Flywheel requires them equal).</summary>
    public required int HeadDim { get; init; }
    public required int VocabSize { get; init; }
    /// <summary>The context the model was trained for (metadata); sessions default to min(this, 4096).</summary>
    public required int TrainedContextLength { get; init; }
    public required float RmsNormEpsilon { get; init; }
    public required RopeParameters Rope { get; init; }
    /// <summary>True when the output projection reuses the token embedding matrix.</summary>
    public bool TiedEmbeddings { get; init; }
    public bool HasQkvBias { get; init; }
    /// <summary>Per-head RMSNorm of queries and keys before RoPE (Qwen3).</summary>
    public bool HasQkNorm { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }
    /// <summary>Whether a prompt starts with BOS (tokenizer.ggml.add_bos_token; defaults per tokenizer model).</summary>
    public bool AddBos { get; init; }

    public int QueryWidth => HeadCount * HeadDim;
    public int KvWidth => KvHeadCount * HeadDim;
}
