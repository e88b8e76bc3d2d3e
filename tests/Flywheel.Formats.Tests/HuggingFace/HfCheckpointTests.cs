using Flywheel.Formats.HuggingFace;
using Flywheel.Formats.Safetensors;

namespace Flywheel.Formats.Tests.HuggingFace;

public class HfCheckpointTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Opens_single_and_sharded_checkpoints(bool sharded)
    {
        using var checkpoint = HfCheckpoint.Open(HfFolderBuilder.Build(sharded));
        Assert.Equal(sharded ? 2 : 1, checkpoint.Shards.Count);
        Assert.Equal("qwen2", checkpoint.Config.ModelType);
        Assert.Equal(2, checkpoint.Config.NumKeyValueHeads);
        Assert.True(checkpoint.Config.TieWordEmbeddings);
        Assert.Equal(2 + 3 * HfFolderBuilder.Layers, checkpoint.Tensors.Count());
        var embd = checkpoint.Tensors.Single(t => t.Name == "model.embed_tokens.weight");
        Assert.Equal(SafetensorsDType.BF16, embd.DType);
        Assert.Equal(new long[] { HfFolderBuilder.Vocab, HfFolderBuilder.Hidden }, embd.Shape);
        Assert.Equal(new long[] { HfFolderBuilder.Hidden, HfFolderBuilder.Vocab }, embd.GgufShape);
        Assert.NotNull(checkpoint.ShardOf("model.layers.1.mlp.down_proj.weight"));
    }

    [Fact]
    public void Missing_shard_is_named()
    {
        var dir = HfFolderBuilder.Build(sharded: true, d => File.Delete(Path.Combine(d, "model-00002-of-00002.safetensors")));
        var ex = Assert.Throws<ModelFormatException>(() => HfCheckpoint.Open(dir));
        Assert.Contains("model-00002-of-00002.safetensors", ex.Message);
        Assert.Contains("model.safetensors.index.json", ex.Message);
    }

    [Fact]
    public void Index_pointing_at_the_wrong_shard_is_refused()
    {
        var dir = HfFolderBuilder.Build(sharded: true, d =>
        {
            var index = Path.Combine(d, "model.safetensors.index.json");
            File.WriteAllText(index, File.ReadAllText(index).Replace(
                "\"model.norm.weight\":\"model-00002-of-00002.safetensors\"",
                "\"model.norm.weight\":\"model-00001-of-00002.safetensors\""));
        });
        Assert.Contains("model.norm.weight", Assert.Throws<ModelFormatException>(() => HfCheckpoint.Open(dir)).Message);
    }

    [Fact]
    public void Folder_without_config_or_weights_is_refused()
    {
        var dir = Flywheel.Testing.TestPaths.TempDir();
        Assert.Contains("config.json", Assert.Throws<ModelFormatException>(() => HfCheckpoint.Open(dir)).Message);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": \"llama\"}");
        Assert.Contains("no weights", Assert.Throws<ModelFormatException>(() => HfCheckpoint.Open(dir)).Message);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"model_type\": ");
        Assert.Contains("not valid JSON", Assert.Throws<ModelFormatException>(() => HfCheckpoint.Open(dir)).Message);
    }

    [Theory]
    [InlineData("model.embed_tokens.weight", "token_embd.weight")]
    [InlineData("lm_head.weight", "output.weight")]
    [InlineData("model.norm.weight", "output_norm.weight")]
    [InlineData("model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight")]
    [InlineData("model.layers.11.self_attn.q_proj.bias", "blk.11.attn_q.bias")]
    [InlineData("model.layers.3.self_attn.k_norm.weight", "blk.3.attn_k_norm.weight")]
    [InlineData("model.layers.27.mlp.gate_proj.weight", "blk.27.ffn_gate.weight")]
    [InlineData("model.layers.2.post_attention_layernorm.weight", "blk.2.ffn_norm.weight")]
    [InlineData("model.layers.2.self_attn.rotary_emb.inv_freq", null)]
    public void Maps_hugging_face_names_to_internal_names(string hf, string? expected) =>
        Assert.Equal(expected, HfTensorNames.ToInternal(hf));
}
