using Flywheel.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flywheel.Server.Endpoints.OpenAi.Models;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: the served models.</summary>
public static class ModelsEndpoints
{
    public sealed record ModelEntry(string Id, string Object, long Created, string OwnedBy);

    public sealed record ModelList(string Object, IReadOnlyList<ModelEntry> Data);

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (ModelRegistry models) =>
            Results.Json(new ModelList("list", models.Names.Select(n => Entry(models, n)).ToList()), Protocol.Json));
        app.MapGet("/v1/models/{id}", (string id, ModelRegistry models) =>
            models.Names.Contains(id) ? Results.Json(Entry(models, id), Protocol.Json) : OpenAiError.ModelNotFound(id));
    }

    private static ModelEntry Entry(ModelRegistry models, string name) => new(name, "model", models.Created, "flywheel");
}
