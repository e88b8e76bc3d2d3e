using Flywheel.Models.Layers;

namespace Flywheel.Models.Architectures.Llama;

/// <summary>
/// Llama (Llama 2 and 3, SmolLM2, TinyLlama, Mistral without sliding window): pre-norm RMSNorm, grouped-query
/// attention without biases, SwiGLU. In GGUF files llama.cpp's converter has permuted q/k rows so that RoPE
/// rotates adjacent pairs ("normal" mode); Hugging Face checkpoints keep NeoX order and run with NeoX RoPE.
/// Llama 3 frequency scaling arrives as rope_freqs.weight (GGUF) or rope_scaling.rope_type = llama3 (config.json).
/// Output embeddings are tied when output.weight is absent (SmolLM2, Llama 3.2 1B/3B, stories260K).
/// </summary>
internal sealed class LlamaArchitecture : IArchitecture
{
    public string Name => "llama";

    public ModelConfig ReadConfig(ModelSource source) => DecoderWiring.ReadCommon(source, neoxRope: false);

    public TransformerWeights BindWeights(ModelSource source, ModelConfig config)
    {
        var (embedding, outputNorm, output) = DecoderWiring.BindEnds(source, config);
        var layers = new DecoderLayerWeights[config.LayerCount];
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i] = new DecoderLayerWeights(
                DecoderWiring.BindAttention(source, config, i, bias: false, qkNorm: false),
                DecoderWiring.BindFeedForward(source, config, i));
        }
        return new TransformerWeights { TokenEmbedding = embedding, OutputNorm = outputNorm, Output = output, Layers = layers };
    }
}
