using Flywheel.Tensors;

namespace Flywheel.Models.Layers;

/// <summary>All weights of a decoder-only transformer, bound by an architecture's wiring.</summary>
public sealed class TransformerWeights
{
    public required TensorView TokenEmbedding { get; init; }  // [n_embd, n_vocab]
    public required float[] OutputNorm { get; init; }         // [n_embd]
    /// <summary>The output projection; the token embedding itself when the model ties them.</summary>
    public required TensorView Output { get; init; }          // [n_embd] -> [n_vocab]
    public required IReadOnlyList<DecoderLayerWeights> Layers { get; init; }
}

public sealed record DecoderLayerWeights(AttentionWeights Attention, FeedForwardWeights FeedForward);
