using System.Text.Json.Nodes;
using Flywheel.Formats.Safetensors;
using Flywheel.Testing;

namespace Flywheel.Formats.Tests.HuggingFace;

/// <summary>Writes a small Qwen2-shaped Hugging Face folder, sharded or not, with deterministic weights.</summary>
internal static class HfFolderBuilder
{
    public const int Hidden = 32, Ffn = 64, Layers = 2, Vocab = 48;

    public static string Build(bool sharded, Action<string>? tamper = null)
    {
        var dir = TestPaths.TempDir();
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen2ForCausalLM"),
            ["model_type"] = "qwen2",
            ["hidden_size"] = Hidden,
            ["intermediate_size"] = Ffn,
            ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 2,
            ["vocab_size"] = Vocab,
            ["max_position_embeddings"] = 256,
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = 1000000.0,
            ["tie_word_embeddings"] = true,
            ["torch_dtype"] = "bfloat16",
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"chat_template": "{{ messages }}"}""");
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), """{"model": {"type": "BPE", "vocab": {}, "merges": []}}""");

        var tensors = new List<(string Name, long[] Shape, SafetensorsDType Type)>
        {
            ("model.embed_tokens.weight", [Vocab, Hidden], SafetensorsDType.BF16),
            ("model.norm.weight", [Hidden], SafetensorsDType.F32),
        };
        for (var l = 0; l < Layers; l++)
        {
            tensors.Add(($"model.layers.{l}.self_attn.q_proj.weight", [Hidden, Hidden], SafetensorsDType.F16));
            tensors.Add(($"model.layers.{l}.self_attn.q_proj.bias", [Hidden], SafetensorsDType.F32));
            tensors.Add(($"model.layers.{l}.mlp.down_proj.weight", [Hidden, Ffn], SafetensorsDType.BF16));
        }
        var writers = new[] { new SafetensorsWriter(), new SafetensorsWriter() };
        var weightMap = new JsonObject();
        var seed = 1;
        for (var i = 0; i < tensors.Count; i++)
        {
            var (name, shape, type) = tensors[i];
            var count = shape.Aggregate(1L, (a, b) => a * b);
            var bytes = new byte[count * SafetensorsTensorInfo.ElementSize(type)];
            new Random(seed++).NextBytes(bytes);
            var shard = sharded ? i % 2 : 0;
            writers[shard].Add(name, type, shape, bytes);
            weightMap[name] = $"model-0000{shard + 1}-of-00002.safetensors";
        }
        if (sharded)
        {
            writers[0].Save(Path.Combine(dir, "model-00001-of-00002.safetensors"));
            writers[1].Save(Path.Combine(dir, "model-00002-of-00002.safetensors"));
            var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = weightMap };
            File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), index.ToJsonString());
        }
        else
        {
            writers[0].Save(Path.Combine(dir, "model.safetensors"));
        }
        tamper?.Invoke(dir);
        return dir;
    }
}
