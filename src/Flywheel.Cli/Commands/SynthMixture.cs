using Flywheel.Tensors;

namespace Flywheel.Cli.Commands;

/// <summary>
/// Which tensor type each weight gets, so a synthesized file is laid out as <c>llama-quantize</c> lays out a real
/// one of the same shape and file type. The rule restates the facts of llama.cpp's src/llama-quant.cpp
/// (<c>llama_tensor_get_type_impl</c> and <c>tensor_type_fallback</c>) for the file types synth writes, without an
/// importance matrix:
/// <list type="bullet">
/// <item>One-dimensional tensors (norms, biases) stay F32; F32/F16 files keep every matrix in that type.</item>
/// <item>The output matrix, or the token embedding when it doubles as the output (tied): Q8_0 when its row length is
/// not a multiple of the file type's block, else Q6_K unless the file type is Q8_0.</item>
/// <item>Q4_K_M: attn_v and ffn_down of the layers where <see cref="UseMoreBits"/> holds get Q6_K; other matrices Q4_K.</item>
/// <item>A type whose block does not divide the row length falls back: Q4_K to Q5_0, Q6_K to Q8_0, and to F16 when
/// even that does not fit.</item>
/// </list>
/// For Qwen2.5-0.5B (hidden 896 = 3.5 × 256) only ffn_down (row 4864 = 19 × 256) can hold K-quants, so its Q4_K_M is
/// mostly Q5_0 with Q8_0 on the tied embedding and on half the attn_v; checked against llama-quantize's own output
/// (see bench/compare-llamacpp/README.md).
/// </summary>
internal static class SynthMixture
{
    public enum Role { TokenEmbedding, Output, Query, Key, Value, AttentionOutput, Gate, Up, Down }

    public static GgmlType TypeFor(SynthFileType fileType, Role role, int layer, int layerCount, long rowLength, bool tiedEmbeddings)
    {
        var baseType = fileType switch
        {
            SynthFileType.F32 => GgmlType.F32,
            SynthFileType.F16 => GgmlType.F16,
            SynthFileType.Q8_0 => GgmlType.Q8_0,
            SynthFileType.Q4_0 => GgmlType.Q4_0,
            SynthFileType.Q4_K_M => GgmlType.Q4_K,
            _ => throw new ArgumentOutOfRangeException(nameof(fileType), fileType, null),
        };
        if (baseType is GgmlType.F32 or GgmlType.F16) return baseType;
        var type = baseType;
        if (role == Role.Output || (role == Role.TokenEmbedding && tiedEmbeddings))
        {
            if (rowLength % GgmlTypeInfo.Get(baseType).BlockSize != 0) type = GgmlType.Q8_0;
            else if (baseType != GgmlType.Q8_0) type = GgmlType.Q6_K;
        }
        else if (fileType == SynthFileType.Q4_K_M && role is (Role.Value or Role.Down) && UseMoreBits(layer, layerCount))
        {
            type = GgmlType.Q6_K;
        }
        return Fallback(type, rowLength);
    }

    /// <summary>The first and last eighth of the layers, and every third one between them (llama-quant.cpp's use_more_bits).</summary>
    public static bool UseMoreBits(int layer, int layerCount) =>
        layer < layerCount / 8 || layer >= 7 * layerCount / 8 || (layer - layerCount / 8) % 3 == 2;

    private static GgmlType Fallback(GgmlType type, long rowLength)
    {
        if (rowLength % GgmlTypeInfo.Get(type).BlockSize == 0) return type;
        var next = type switch
        {
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => type,
        };
        return rowLength % GgmlTypeInfo.Get(next).BlockSize == 0 ? next : GgmlType.F16;
    }
}
