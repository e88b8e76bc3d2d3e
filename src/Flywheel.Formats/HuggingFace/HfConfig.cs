using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flywheel.Formats.HuggingFace;

/// <summary>
/// The fields of a Hugging Face <c>config.json</c> that Flywheel reads, plus the whole document as parsed
/// (<see cref="Raw"/>) so nothing in it is lost. Field names follow transformers' configuration classes.
/// </summary>
public sealed record HfConfig
{
    public required JsonObject Raw { get; init; }
    public string ModelType { get; init; } = "";
    public IReadOnlyList<string> Architectures { get; init; } = [];
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumHiddenLayers { get; init; }
    public int NumAttentionHeads { get; init; }
    public int NumKeyValueHeads { get; init; }
    public int? HeadDim { get; init; }
    public int VocabSize { get; init; }
    public int MaxPositionEmbeddings { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public JsonObject? RopeScaling { get; init; }
    public bool TieWordEmbeddings { get; init; }
    public string? TorchDType { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }

    public static HfConfig Load(string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, e.BytePositionInLine, $"config.json is not valid JSON: {e.Message}");
        }
        if (node is not JsonObject o)
        {
            throw new ModelFormatException(path, 0, "config.json must hold a JSON object");
        }
        try
        {
            var heads = Int(o, "num_attention_heads") ?? 0;
            return new HfConfig
            {
                Raw = o,
                ModelType = o["model_type"]?.GetValue<string>() ?? "",
                Architectures = o["architectures"] is JsonArray a ? a.Select(x => x!.GetValue<string>()).ToArray() : [],
                HiddenSize = Int(o, "hidden_size") ?? 0,
                IntermediateSize = Int(o, "intermediate_size") ?? 0,
                NumHiddenLayers = Int(o, "num_hidden_layers") ?? 0,
                NumAttentionHeads = heads,
                NumKeyValueHeads = Int(o, "num_key_value_heads") ?? heads,
                HeadDim = Int(o, "head_dim"),
                VocabSize = Int(o, "vocab_size") ?? 0,
                MaxPositionEmbeddings = Int(o, "max_position_embeddings") ?? 0,
                RmsNormEps = Double(o, "rms_norm_eps") ?? 1e-6,
                RopeTheta = Double(o, "rope_theta") ?? 10000,
                RopeScaling = o["rope_scaling"] as JsonObject,
                TieWordEmbeddings = o["tie_word_embeddings"]?.GetValue<bool>() ?? false,
                TorchDType = o["torch_dtype"]?.GetValue<string>() ?? o["dtype"]?.GetValue<string>(),
                BosTokenId = IntOrFirst(o, "bos_token_id"),
                EosTokenId = IntOrFirst(o, "eos_token_id"),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new ModelFormatException(path, null, $"config.json has a field of the wrong type: {e.Message}");
        }
    }

    private static int? Int(JsonObject o, string key) => o[key] is JsonValue v ? (int)v.GetValue<double>() : null;

    private static double? Double(JsonObject o, string key) => o[key] is JsonValue v ? v.GetValue<double>() : null;

    // Some configs list several end tokens (Llama 3.1: [128001, 128008, 128009]); the first is the canonical one.
    private static int? IntOrFirst(JsonObject o, string key) => o[key] switch
    {
        JsonValue v => (int)v.GetValue<double>(),
        JsonArray { Count: > 0 } a => (int)a[0]!.GetValue<double>(),
        _ => null,
    };
}
