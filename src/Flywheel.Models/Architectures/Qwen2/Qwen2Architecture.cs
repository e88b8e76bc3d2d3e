using Flywheel.Models.Layers;

namespace Flywheel.Models.Architectures.Qwen2;

/// <summary>
/// Qwen2 / Qwen2.5: the Llama block plus biases on the Q, K and V projections, NeoX RoPE (rotating element i with
/// i + head_dim/2) and, in the small sizes, tied output embeddings. llama.cpp: LLM_ARCH_QWEN2, build_qwen2.
/// </summary>
internal sealed class Qwen2Architecture : IArchitecture
{
    public string Name => "qwen2";

    public ModelConfig ReadConfig(ModelSource source) => DecoderWiring.ReadCommon(source, neoxRope: true) with { HasQkvBias = true };

    public TransformerWeights BindWeights(ModelSource source, ModelConfig config)
    {
        var (embedding, outputNorm, output) = DecoderWiring.BindEnds(source, config);
        var layers = new DecoderLayerWeights[config.LayerCount];
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i] = new DecoderLayerWeights(
                DecoderWiring.BindAttention(source, config, i, bias: true, qkNorm: false),
                DecoderWiring.BindFeedForward(source, config, i));
        }
        return new TransformerWeights { TokenEmbedding = embedding, OutputNorm = outputNorm, Output = output, Layers = layers };
    }
}
