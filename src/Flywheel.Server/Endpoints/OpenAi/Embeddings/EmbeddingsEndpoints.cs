using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Flywheel.Engine;
using Flywheel.Server.Hosting;
using Flywheel.Server.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flywheel.Server.Endpoints.OpenAi.Embeddings;

/// <summary>
/// <c>POST /v1/embeddings</c>: unit-length mean-pooled vectors [n_embd] from <see cref="InferenceEngine.EmbedAsync"/>.
/// <c>input</c> is a string, an array of strings, an array of token ids, or an array of token-id arrays.
/// </summary>
public static class EmbeddingsEndpoints
{
    /// <summary>OpenAI's limit on inputs per request.</summary>
    public const int MaxInputs = 2048;

    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/v1/embeddings", HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext http, ModelRegistry models, ServingMetrics metrics)
    {
        return await RequestHandling.RunAsync(http, models, async (fields, engine, ct) =>
        {
            var format = fields.String("encoding_format") ?? "float";
            if (format is not ("float" or "base64")) throw new BadRequestException("'encoding_format' must be \"float\" or \"base64\"", "encoding_format");
            if (fields.Integer("dimensions", 1, int.MaxValue) is { } dimensions && dimensions != engine.EmbeddingLength)
            {
                throw new BadRequestException($"this model's embeddings have {engine.EmbeddingLength} dimensions; 'dimensions' = {dimensions} is not supported", "dimensions");
            }
            var inputs = ReadInputs(fields.Body["input"], engine);
            var vectors = await engine.EmbedAsync(inputs, ct);
            var tokens = inputs.Sum(i => i.Count);
            metrics.RecordEmbeddings(engine, tokens);
            var data = new EmbeddingItem[vectors.Length];
            for (var i = 0; i < vectors.Length; i++)
            {
                data[i] = new EmbeddingItem("embedding", i, format == "base64" ? Convert.ToBase64String(MemoryMarshal.AsBytes(vectors[i].AsSpan())) : vectors[i]);
            }
            return Results.Json(new EmbeddingList("list", data, engine.Model.Name, new EmbeddingUsage(tokens, tokens)), Protocol.Json);
        }, contextParam: "input");
    }

    private static List<IReadOnlyList<int>> ReadInputs(JsonNode? input, InferenceEngine engine)
    {
        const string expected = "a string, an array of strings, an array of token ids or an array of token-id arrays";
        var vocab = engine.Model.Model.Config.VocabSize;
        switch (input)
        {
            case null:
                throw new BadRequestException("'input' is required", "input");
            case JsonValue v when v.TryGetValue<string>(out var text):
                return [Tokenize(text)];
            case JsonArray { Count: 0 }:
                throw new BadRequestException("'input' must not be an empty array", "input");
            case JsonArray a when a.Count > MaxInputs:
                throw new BadRequestException($"'input' takes at most {MaxInputs} items", "input");
            case JsonArray a when a.All(x => x is JsonValue xv && xv.TryGetValue<string>(out _)):
                return a.Select(x => Tokenize(x!.GetValue<string>())).ToList();
            case JsonArray a when a.All(x => x is JsonValue xv && xv.GetValueKind() == System.Text.Json.JsonValueKind.Number):
                return [TokenIds(a)];
            case JsonArray a when a.All(x => x is JsonArray):
                return a.Select(x => TokenIds((JsonArray)x!)).ToList();
            default:
                throw RequestFields.Invalid("input", expected);
        }

        IReadOnlyList<int> Tokenize(string text)
        {
            if (text.Length == 0) throw new BadRequestException("'input' must not contain empty strings", "input");
            return engine.Model.TokenizeRaw(text);
        }

        IReadOnlyList<int> TokenIds(JsonArray ids)
        {
            if (ids.Count == 0) throw new BadRequestException("'input' must not contain empty token arrays", "input");
            var result = new int[ids.Count];
            for (var i = 0; i < ids.Count; i++)
            {
                if (ids[i] is not JsonValue iv || !iv.TryGetValue<int>(out var id)) throw RequestFields.Invalid("input", expected);
                if ((uint)id >= (uint)vocab) throw new BadRequestException($"token id {id} in 'input' is outside the vocabulary of {vocab}", "input");
                result[i] = id;
            }
            return result;
        }
    }
}
