using System.Text.RegularExpressions;

namespace Flywheel.Formats.HuggingFace;

/// <summary>
/// Maps Hugging Face parameter names to Flywheel's internal tensor names, which are GGUF's names
/// (llama.cpp's convention: <c>token_embd.weight</c>, <c>blk.N.attn_q.weight</c>, ...). This covers the Llama,
/// Qwen2 and Qwen3 families, whose checkpoints share the <c>model.layers.N.*</c> naming.
/// </summary>
public static partial class HfTensorNames
{
    private static readonly Dictionary<string, string> Global = new()
    {
        ["model.embed_tokens.weight"] = "token_embd.weight",
        ["model.norm.weight"] = "output_norm.weight",
        ["lm_head.weight"] = "output.weight",
    };

    private static readonly Dictionary<string, string> PerLayer = new()
    {
        ["input_layernorm.weight"] = "attn_norm.weight",
        ["self_attn.q_proj.weight"] = "attn_q.weight",
        ["self_attn.q_proj.bias"] = "attn_q.bias",
        ["self_attn.k_proj.weight"] = "attn_k.weight",
        ["self_attn.k_proj.bias"] = "attn_k.bias",
        ["self_attn.v_proj.weight"] = "attn_v.weight",
        ["self_attn.v_proj.bias"] = "attn_v.bias",
        ["self_attn.o_proj.weight"] = "attn_output.weight",
        ["self_attn.q_norm.weight"] = "attn_q_norm.weight",
        ["self_attn.k_norm.weight"] = "attn_k_norm.weight",
        ["post_attention_layernorm.weight"] = "ffn_norm.weight",
        ["mlp.gate_proj.weight"] = "ffn_gate.weight",
        ["mlp.up_proj.weight"] = "ffn_up.weight",
        ["mlp.down_proj.weight"] = "ffn_down.weight",
    };

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)$")]
    private static partial Regex LayerName();

    /// <summary>The internal name for <paramref name="hfName"/>, or null when it is not one Flywheel uses (e.g. rotary caches).</summary>
    public static string? ToInternal(string hfName)
    {
        if (Global.TryGetValue(hfName, out var g)) return g;
        var m = LayerName().Match(hfName);
        if (m.Success && PerLayer.TryGetValue(m.Groups[2].Value, out var suffix))
        {
            return $"blk.{m.Groups[1].Value}.{suffix}";
        }
        return null;
    }
}
