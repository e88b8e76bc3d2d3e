using Flywheel.Tensors;

namespace Flywheel.Models.Layers;

/// <summary>One layer's attention weights. Matrices are in GGUF order ([in, out]); vectors are F32 copies.</summary>
public sealed class AttentionWeights
{
    public required float[] Norm { get; init; }       // [n_embd]
    public required TensorView Query { get; init; }   // [n_embd] -> [n_head * head_dim]
    public required TensorView Key { get; init; }     // [n_embd] -> [n_kv_head * head_dim]
    public required TensorView Value { get; init; }   // [n_embd] -> [n_kv_head * head_dim]
    public required TensorView Output { get; init; }  // [n_head * head_dim] -> [n_embd]
    public float[]? QueryBias { get; init; }          // [n_head * head_dim]
    public float[]? KeyBias { get; init; }            // [n_kv_head * head_dim]
    public float[]? ValueBias { get; init; }          // [n_kv_head * head_dim]
    public float[]? QueryNorm { get; init; }          // [head_dim]
    public float[]? KeyNorm { get; init; }            // [head_dim]
}
