using Flywheel.Models.Layers;

namespace Flywheel.Models.Architectures.Qwen3;

/// <summary>
/// Qwen3 (dense): no QKV biases; instead RMSNorm over each head of Q and K (weights [head_dim], the model's epsilon)
/// before NeoX RoPE. The head size is explicit (attention.key_length, e.g. 128 with hidden 1024), so the query width
/// need not equal the hidden size. llama.cpp: LLM_ARCH_QWEN3, build_qwen3.
/// </summary>
internal sealed class Qwen3Architecture : IArchitecture
{
    public string Name => "qwen3";

    public ModelConfig ReadConfig(ModelSource source) => DecoderWiring.ReadCommon(source, neoxRope: true) with { HasQkNorm = true };

    public TransformerWeights BindWeights(ModelSource source, ModelConfig config)
    {
        var (embedding, outputNorm, output) = DecoderWiring.BindEnds(source, config);
        var layers = new DecoderLayerWeights[config.LayerCount];
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i] = new DecoderLayerWeights(
                DecoderWiring.BindAttention(source, config, i, bias: false, qkNorm: true),
                DecoderWiring.BindFeedForward(source, config, i));
        }
        return new TransformerWeights { TokenEmbedding = embedding, OutputNorm = outputNorm, Output = output, Layers = layers };
    }
}
