using Flywheel.Formats;
using Flywheel.Formats.Gguf;
using Flywheel.Formats.Safetensors;
using Flywheel.Models.Tests.Fixtures;
using Flywheel.Tensors;
using Flywheel.Testing;

namespace Flywheel.Models.Tests;

/// <summary>Loading: clear errors, tied embeddings, and a Hugging Face folder computing what its GGUF computes.</summary>
public sealed class ModelLoadTests
{
    private static string TinyLlama => LlamaCppReference.ModelPath("tiny-llama-f16.gguf");

    /// <summary>Rewrites the tiny llama GGUF, dropping <paramref name="skip"/> and changing metadata.</summary>
    private static string Rewrite(Func<string, bool> skip, Action<GgufWriter>? edit = null)
    {
        using var source = GgufFile.Open(TinyLlama);
        var writer = new GgufWriter().CopyMetadata(source);
        edit?.Invoke(writer);
        foreach (var t in source.Tensors.Where(t => !skip(t.Name)))
        {
            writer.AddTensor(t.Name, t.Type, t.Shape.ToArray(), source.GetTensor(t.Name).Bytes.ToArray());
        }
        var path = Path.Combine(TestPaths.TempDir(), "model.gguf");
        writer.Save(path);
        return path;
    }

    [Fact]
    public void Unsupported_architecture_is_named()
    {
        var path = Path.Combine(TestPaths.TempDir(), "mamba.gguf");
        new GgufWriter().Set(GgufKeys.Architecture, "mamba").Save(path);
        var e = Assert.Throws<ModelFormatException>(() => Model.Load(path));
        Assert.Contains("unsupported architecture 'mamba'", e.Message);
        Assert.Contains("llama, qwen2, qwen3", e.Message);
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        var path = Rewrite(name => name == "blk.1.ffn_up.weight");
        var e = Assert.Throws<ModelFormatException>(() => Model.Load(path));
        Assert.Contains("'blk.1.ffn_up.weight' is missing", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Without_output_weight_the_embedding_is_tied()
    {
        var path = Rewrite(name => name == "output.weight");
        using var model = Model.Load(path);
        Assert.True(model.Config.TiedEmbeddings);
        Assert.Equal("token_embd.weight", model.Weights.Output.Name);
        var logits = model.CreateSession().Prefill([1, 15043, 3186]);
        Assert.All(logits.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Session_context_defaults_to_trained_context_capped()
    {
        using var model = Model.Load(TinyLlama);
        Assert.Equal(Math.Min(model.Config.TrainedContextLength, Model.DefaultMaxContextLength), model.CreateSession().ContextLength);
        Assert.Equal(100, model.CreateSession(new SessionOptions { ContextLength = 100 }).ContextLength);
        var small = model.CreateSession(new SessionOptions { ContextLength = 4 });
        small.Prefill([1, 2, 3, 4]);
        Assert.Throws<InvalidOperationException>(() => small.Decode(5));
    }

    [Fact]
    public void Chunked_prefill_equals_one_batch_and_token_by_token()
    {
        using var model = Model.Load(TinyLlama);
        int[] prompt = [1, 450, 7483, 310, 3444, 338, 29871, 13];
        var whole = model.CreateSession().Prefill(prompt).ToArray();
        var chunked = model.CreateSession(new SessionOptions { BatchSize = 3 }).Prefill(prompt).ToArray();
        var stepwise = model.CreateSession();
        stepwise.Prefill(prompt[..1]);
        float[] last = [];
        foreach (var t in prompt[1..]) last = stepwise.Decode(t).ToArray();
        Assert.Equal(whole, chunked);
        Assert.Equal(whole, last);
    }

    /// <summary>
    /// Builds a Hugging Face folder from the tiny llama GGUF (undoing llama.cpp's q/k row permutation, so the folder
    /// is what the converter would have read) and checks it gives the GGUF's logits: NeoX RoPE on Hugging Face rows
    /// equals normal RoPE on GGUF rows.
    /// </summary>
    [Fact]
    public void Hugging_Face_folder_matches_its_gguf()
    {
        var folder = TestPaths.TempDir();
        using (var gguf = GgufFile.Open(TinyLlama))
        {
            const int heads = 4, kvHeads = 2, headDim = 16, layers = 2;
            File.WriteAllText(Path.Combine(folder, "config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 172,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-05,
                 "rope_theta": 100000.0, "max_position_embeddings": 2048, "vocab_size": 32000, "tie_word_embeddings": false,
                 "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float16"}
                """);
            var writer = new SafetensorsWriter();
            void Add(string hfName, string ggufName, int permuteHeads = 0)
            {
                var t = gguf.GetTensor(ggufName);
                var bytes = t.Bytes.ToArray();
                if (permuteHeads > 0) bytes = UnpermuteRows(bytes, permuteHeads, headDim, (int)t.RowBytes);
                var dtype = t.Type == GgmlType.F16 ? SafetensorsDType.F16 : SafetensorsDType.F32;
                writer.Add(hfName, dtype, t.Shape.Reverse().ToArray(), bytes);
            }
            Add("model.embed_tokens.weight", "token_embd.weight");
            Add("model.norm.weight", "output_norm.weight");
            Add("lm_head.weight", "output.weight");
            for (var l = 0; l < layers; l++)
            {
                var p = $"model.layers.{l}.";
                Add(p + "input_layernorm.weight", $"blk.{l}.attn_norm.weight");
                Add(p + "self_attn.q_proj.weight", $"blk.{l}.attn_q.weight", heads);
                Add(p + "self_attn.k_proj.weight", $"blk.{l}.attn_k.weight", kvHeads);
                Add(p + "self_attn.v_proj.weight", $"blk.{l}.attn_v.weight");
                Add(p + "self_attn.o_proj.weight", $"blk.{l}.attn_output.weight");
                Add(p + "post_attention_layernorm.weight", $"blk.{l}.ffn_norm.weight");
                Add(p + "mlp.gate_proj.weight", $"blk.{l}.ffn_gate.weight");
                Add(p + "mlp.up_proj.weight", $"blk.{l}.ffn_up.weight");
                Add(p + "mlp.down_proj.weight", $"blk.{l}.ffn_down.weight");
            }
            writer.Save(Path.Combine(folder, "model.safetensors"));
        }
        int[] prompt = [1, 450, 7483, 310, 3444, 338];
        using var fromGguf = Model.Load(TinyLlama);
        using var fromHf = Model.Load(folder);
        Assert.False(fromGguf.Config.Rope.NeoX);
        Assert.True(fromHf.Config.Rope.NeoX);
        var expected = fromGguf.CreateSession().Prefill(prompt).ToArray();
        var actual = fromHf.CreateSession().Prefill(prompt).ToArray();
        var maxDiff = expected.Zip(actual, (a, b) => MathF.Abs(a - b)).Max();
        Assert.True(maxDiff < 1e-4f, $"max logit difference {maxDiff}");
    }

    /// <summary>GGUF row h·d + 2i + s holds Hugging Face row h·d + s·d/2 + i (inverse of llama.cpp's permute()).</summary>
    private static byte[] UnpermuteRows(byte[] rows, int heads, int headDim, int rowBytes)
    {
        var result = new byte[rows.Length];
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < headDim / 2; i++)
            {
                for (var s = 0; s < 2; s++)
                {
                    var from = h * headDim + 2 * i + s;
                    var to = h * headDim + s * headDim / 2 + i;
                    Array.Copy(rows, from * rowBytes, result, to * rowBytes, rowBytes);
                }
            }
        }
        return result;
    }
}

public sealed class RopeScalingConfigTests
{
    [Fact]
    public void Llama3_frequency_factors_span_one_to_factor()
    {
        // Llama 3.1 8B: head 128, theta 500000, factor 8, low 1, high 4, original context 8192.
        var f = HuggingFaceModelSource.Llama3Factors(128, 500000, 8, 1, 4, 8192);
        Assert.Equal(64, f.Length);
        Assert.Equal(1f, f[0]);
        Assert.Equal(8f, f[63]);
        for (var i = 1; i < f.Length; i++) Assert.True(f[i] >= f[i - 1]);
        Assert.Contains(f, v => v is > 1f and < 8f); // the smoothed band exists
    }
}

public sealed class ModelSessionEvaluateTests
{
    [Fact]
    public void Evaluate_rows_equal_prefill_logits_at_every_position_across_batches()
    {
        using var model = Model.Load(LlamaCppReference.ModelPath("tiny-llama-f16.gguf"));
        int[] tokens = [1, 450, 7483, 310, 3444, 338, 29871, 13, 1576, 2];
        var vocab = model.Config.VocabSize;
        const int first = 4;
        var logits = new float[(tokens.Length - first) * vocab];
        model.CreateSession(new SessionOptions { BatchSize = 3 }).Evaluate(tokens, logits, firstLogitRow: first);
        for (var i = first; i < tokens.Length; i++)
        {
            var expected = model.CreateSession().Prefill(tokens.AsSpan(0, i + 1)).ToArray();
            Assert.Equal(expected, logits.AsSpan((i - first) * vocab, vocab).ToArray());
        }
    }
}
