using Flywheel.Tensors;

namespace Flywheel.Models.Layers;

/// <summary>One layer's SwiGLU feed-forward weights: down(silu(gate·x) ⊙ up·x).</summary>
public sealed class FeedForwardWeights
{
    public required float[] Norm { get; init; }     // [n_embd]
    public required TensorView Gate { get; init; }  // [n_embd] -> [n_ff]
    public required TensorView Up { get; init; }    // [n_embd] -> [n_ff]
    public required TensorView Down { get; init; }  // [n_ff] -> [n_embd]
}
