using Flywheel.Kernels;

namespace Flywheel.Models.Layers;

/// <summary>
/// Activations and scratch for one forward pass of up to <see cref="MaxTokens"/> tokens, allocated once
/// (DESIGN.md habit 7). Not thread-safe: one pass at a time per instance.
/// </summary>
public sealed class ForwardBuffers
{
    public ForwardBuffers(ModelConfig config, TransformerWeights weights, IKernelSet kernels, int maxTokens, int contextLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        MaxTokens = maxTokens;
        var e = config.EmbeddingLength;
        Hidden = new float[maxTokens * e];
        Normed = new float[maxTokens * e];
        Query = new float[maxTokens * config.QueryWidth];
        Key = new float[maxTokens * config.KvWidth];
        Value = new float[maxTokens * config.KvWidth];
        AttentionOut = new float[maxTokens * config.QueryWidth];
        Projected = new float[maxTokens * e];
        Gate = new float[maxTokens * config.FeedForwardLength];
        Up = new float[maxTokens * config.FeedForwardLength];
        Logits = new float[config.VocabSize];
        Positions = new int[maxTokens];
        AttentionScratch = new float[kernels.AttentionScratchFloats(contextLength, config.HeadCount, config.HeadDim)];
        long scratch = kernels.MatMulScratchBytes(weights.Output.Type, e, maxTokens);
        foreach (var layer in weights.Layers)
        {
            var a = layer.Attention;
            var f = layer.FeedForward;
            scratch = Math.Max(scratch, kernels.MatMulScratchBytes(a.Query.Type, e, maxTokens));
            scratch = Math.Max(scratch, kernels.MatMulScratchBytes(a.Key.Type, e, maxTokens));
            scratch = Math.Max(scratch, kernels.MatMulScratchBytes(a.Value.Type, e, maxTokens));
            scratch = Math.Max(scratch, kernels.MatMulScratchBytes(a.Output.Type, config.QueryWidth, maxTokens));
            scratch = Math.Max(scratch, kernels.MatMulScratchBytes(f.Gate.Type, e, maxTokens));
            scratch = Math.Max(scratch, kernels.MatMulScratchBytes(f.Up.Type, e, maxTokens));
            scratch = Math.Max(scratch, kernels.MatMulScratchBytes(f.Down.Type, config.FeedForwardLength, maxTokens));
        }
        MatMulScratch = new byte[scratch];
    }

    public int MaxTokens { get; }
    internal float[] Hidden { get; }           // [n_tokens, n_embd] residual stream
    internal float[] Normed { get; }           // [n_tokens, n_embd]
    internal float[] Query { get; }            // [n_tokens, n_head, head_dim]
    internal float[] Key { get; }              // [n_tokens, n_kv_head, head_dim]
    internal float[] Value { get; }            // [n_tokens, n_kv_head, head_dim]
    internal float[] AttentionOut { get; }     // [n_tokens, n_head, head_dim]
    internal float[] Projected { get; }        // [n_tokens, n_embd]
    internal float[] Gate { get; }             // [n_tokens, n_ff]
    internal float[] Up { get; }               // [n_tokens, n_ff]
    internal float[] Logits { get; }           // [n_vocab] logits of the last token
    internal int[] Positions { get; }          // [n_tokens]
    internal float[] AttentionScratch { get; } // kernel-defined
    internal byte[] MatMulScratch { get; }     // quantized activations, [n_tokens, row bytes of the vec_dot type]
}
