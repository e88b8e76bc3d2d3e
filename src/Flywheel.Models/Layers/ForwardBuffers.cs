using Flywheel.Kernels;
using Flywheel.Models.KvCache;

namespace Flywheel.Models.Layers;

/// <summary>
/// Activations and scratch for one forward pass of up to <see cref="MaxTokens"/> tokens, allocated once
/// (DESIGN.md habit 7). Not thread-safe: one pass at a time per instance.
/// </summary>
public sealed class ForwardBuffers
{
    /// <param name="maxSequences">Sequences one pass may hold (the cache's), and <paramref name="blockSize"/> its block
    /// size: together they size the block tables the batched decode attention gathers.</param>
    public ForwardBuffers(ModelConfig config, TransformerWeights weights, IKernelSet kernels, int maxTokens, int contextLength,
        int maxSequences = 1, int blockSize = KeyValueCache.DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequences, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
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
        AttentionTables = new int[Math.Min(maxTokens, maxSequences) * ((contextLength + blockSize - 1) / blockSize)];
        AttentionTableStarts = new int[maxTokens];
        AttentionTableLengths = new int[maxTokens];
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
    internal int[] AttentionTables { get; }    // block tables of the sequences one batched decode attention reads, back to back
    internal int[] AttentionTableStarts { get; }  // [n_tokens] where each row's table starts in AttentionTables
    internal int[] AttentionTableLengths { get; } // [n_tokens] blocks in each row's table
    internal byte[] MatMulScratch { get; }     // quantized activations, [n_tokens, row bytes of the vec_dot type]
}
