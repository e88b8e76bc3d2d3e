namespace Flywheel.Models.Architectures;

/// <summary>
/// GGUF tensor names (llama.cpp's convention, gguf-py constants.py TENSOR_NAMES) that the decoder architectures
/// bind. Names are spelled here only (DESIGN.md habit 5).
/// </summary>
internal static class TensorNames
{
    public const string TokenEmbedding = "token_embd.weight";
    public const string OutputNorm = "output_norm.weight";
    public const string Output = "output.weight";
    /// <summary>Llama 3 RoPE frequency factors, written by llama.cpp's converter.</summary>
    public const string RopeFrequencies = "rope_freqs.weight";

    public static string AttentionNorm(int layer) => $"blk.{layer}.attn_norm.weight";
    public static string Query(int layer) => $"blk.{layer}.attn_q.weight";
    public static string Key(int layer) => $"blk.{layer}.attn_k.weight";
    public static string Value(int layer) => $"blk.{layer}.attn_v.weight";
    public static string AttentionOutput(int layer) => $"blk.{layer}.attn_output.weight";
    public static string QueryBias(int layer) => $"blk.{layer}.attn_q.bias";
    public static string KeyBias(int layer) => $"blk.{layer}.attn_k.bias";
    public static string ValueBias(int layer) => $"blk.{layer}.attn_v.bias";
    public static string QueryNorm(int layer) => $"blk.{layer}.attn_q_norm.weight";
    public static string KeyNorm(int layer) => $"blk.{layer}.attn_k_norm.weight";
    public static string FeedForwardNorm(int layer) => $"blk.{layer}.ffn_norm.weight";
    public static string Gate(int layer) => $"blk.{layer}.ffn_gate.weight";
    public static string Up(int layer) => $"blk.{layer}.ffn_up.weight";
    public static string Down(int layer) => $"blk.{layer}.ffn_down.weight";
}
