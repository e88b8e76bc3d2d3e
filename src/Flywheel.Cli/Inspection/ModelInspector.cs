using System.Text.Json;
using System.Text.Json.Nodes;
using Flywheel.Formats;
using Flywheel.Formats.Gguf;
using Flywheel.Formats.HuggingFace;
using Flywheel.Tensors;

namespace Flywheel.Cli.Inspection;

/// <summary>Reads a GGUF file or a Hugging Face folder into a <see cref="ModelSummary"/>.</summary>
internal static class ModelInspector
{
    /// <summary>Arrays longer than this are summarised as {type, length}: a 150k-token vocabulary is noise.</summary>
    public const int MaxInlineArray = 16;

    public static ModelSummary Inspect(string path)
    {
        if (Directory.Exists(path))
        {
            return InspectHuggingFace(path);
        }
        if (!File.Exists(path))
        {
            throw new ModelFormatException(path, null, "no such file or folder");
        }
        return InspectGguf(path);
    }

    private static ModelSummary InspectGguf(string path)
    {
        using var file = GgufFile.Open(path);
        var arch = file.Architecture;
        var metadata = new JsonObject();
        foreach (var key in file.MetadataKeys)
        {
            metadata[key] = ToJson(file.Metadata[key]);
        }
        var tensors = file.Tensors.Select(t => new TensorSummary(t.Name, GgmlTypeInfo.Name(t.Type), t.Shape)).ToList();
        return new ModelSummary(
            Format: "gguf",
            Path: path,
            Version: file.Version,
            Architecture: arch,
            ParameterCount: file.Tensors.Sum(t => t.ElementCount),
            ContextLength: arch is null ? null : file.TryGetInt64(GgufKeys.Arch(arch, GgufKeys.ContextLength)),
            TokenizerModel: file.TryGetString(GgufKeys.TokenizerModel),
            HasChatTemplate: file.TryGetString(GgufKeys.ChatTemplate) is { Length: > 0 },
            Tensors: tensors,
            Metadata: metadata);
    }

    private static ModelSummary InspectHuggingFace(string folder)
    {
        using var checkpoint = HfCheckpoint.Open(folder);
        var config = checkpoint.Config;
        var metadata = (JsonObject)config.Raw.DeepClone();
        string? tokenizerModel = null;
        if (checkpoint.TokenizerJsonPath is { } tokPath)
        {
            tokenizerModel = ReadTokenizerModelType(tokPath);
        }
        var hasTemplate = false;
        if (checkpoint.TokenizerConfigPath is { } tcPath)
        {
            hasTemplate = ReadJson(tcPath)?["chat_template"] is not null;
        }
        var tensors = checkpoint.Tensors
            .Select(t => new TensorSummary(t.Name, t.DType.ToString().ToUpperInvariant(), t.GgufShape))
            .ToList();
        return new ModelSummary(
            Format: "huggingface",
            Path: folder,
            Version: null,
            Architecture: config.ModelType.Length > 0 ? config.ModelType : null,
            ParameterCount: checkpoint.Tensors.Sum(t => t.ElementCount),
            ContextLength: config.MaxPositionEmbeddings > 0 ? config.MaxPositionEmbeddings : null,
            TokenizerModel: tokenizerModel,
            HasChatTemplate: hasTemplate,
            Tensors: tensors,
            Metadata: metadata);
    }

    private static string? ReadTokenizerModelType(string path)
    {
        // tokenizer.json can be tens of megabytes; only model.type is wanted, so stream past the rest.
        using var stream = File.OpenRead(path);
        try
        {
            using var doc = JsonDocument.Parse(stream);
            return doc.RootElement.TryGetProperty("model", out var model) && model.TryGetProperty("type", out var type)
                ? type.GetString()
                : null;
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, e.BytePositionInLine, $"tokenizer.json is not valid JSON: {e.Message}");
        }
    }

    private static JsonNode? ReadJson(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, e.BytePositionInLine, $"not valid JSON: {e.Message}");
        }
    }

    internal static JsonNode? ToJson(GgufValue value) => value.Value switch
    {
        GgufArray a => ArrayToJson(a),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        float f => float.IsFinite(f) ? JsonValue.Create(f) : JsonValue.Create(f.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        double d => double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ulong u => JsonValue.Create(u),
        _ => JsonValue.Create(value.AsInt64()),
    };

    private static JsonNode ArrayToJson(GgufArray a)
    {
        if (a.Length > MaxInlineArray)
        {
            return new JsonObject { ["type"] = TypeName(a.ElementType), ["length"] = a.Length };
        }
        var result = new JsonArray();
        foreach (var item in a.Items)
        {
            var element = item is GgufArray nested ? new GgufValue(GgufValueType.Array, nested) : new GgufValue(a.ElementType, item!);
            result.Add(ToJson(element));
        }
        return result;
    }

    /// <summary>Lower-case element type names, as GGUF's documentation spells the types.</summary>
    public static string TypeName(GgufValueType type) => type.ToString().ToLowerInvariant();
}
