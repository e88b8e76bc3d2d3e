using System.Numerics.Tensors;
using Flywheel.Kernels;

namespace Flywheel.Models.Layers;

/// <summary>Pre-norm SwiGLU feed-forward with a residual: h += W_down · (silu(W_gate · x) ⊙ W_up · x), x = rmsnorm(h).</summary>
internal static class FeedForwardBlock
{
    public static void Forward(IKernelSet k, ModelConfig c, FeedForwardWeights w, ForwardBuffers b, int tokens)
    {
        var e = c.EmbeddingLength;
        var hidden = b.Hidden.AsSpan(0, tokens * e);                     // [n_tokens, n_embd]
        var normed = b.Normed.AsSpan(0, tokens * e);                     // [n_tokens, n_embd]
        var gate = b.Gate.AsSpan(0, tokens * c.FeedForwardLength);       // [n_tokens, n_ff]
        var up = b.Up.AsSpan(0, tokens * c.FeedForwardLength);           // [n_tokens, n_ff]
        var projected = b.Projected.AsSpan(0, tokens * e);               // [n_tokens, n_embd]
        var scratch = b.MatMulScratch.AsSpan();

        k.RmsNorm(hidden, w.Norm, normed, e, c.RmsNormEpsilon);
        k.MatMul(w.Gate, normed, gate, tokens, scratch);
        k.MatMul(w.Up, normed, up, tokens, scratch);
        k.SwiGlu(gate, up, gate);
        k.MatMul(w.Down, gate, projected, tokens, scratch);
        TensorPrimitives.Add(hidden, projected, hidden);
    }
}
