using System.Text.Json.Nodes;
using Flywheel.Server.Auth;
using Flywheel.Server.Endpoints.OpenAi;
using Flywheel.Store;
using Flywheel.Store.Datasets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flywheel.Server.Endpoints.Loop;

/// <summary>
/// <c>GET /v1/datasets</c> (the caller's tenant's datasets) and <c>GET /v1/datasets/{name}[?split=train|test|all]</c>
/// (one of them with its examples). Another tenant's dataset is answered exactly as an unknown one, 404.
/// </summary>
public static class DatasetsEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/datasets", ListAsync);
        app.MapGet("/v1/datasets/{name}", GetAsync);
    }

    private static async Task<IResult> ListAsync(HttpContext http, ServerOptions options)
    {
        if (options.Store is not { } store) return LoopErrors.NoStore();
        try
        {
            var datasets = await store.ListDatasetsAsync(RequestTenant.Get(http), http.RequestAborted);
            return Results.Json(new DatasetList("list", datasets.Select(d => Entry(d, null)).ToList()), Protocol.Json);
        }
        catch (StoreException e)
        {
            return LoopErrors.StoreFailed(e);
        }
    }

    private static async Task<IResult> GetAsync(HttpContext http, string name, ServerOptions options)
    {
        if (options.Store is not { } store) return LoopErrors.NoStore();
        try
        {
            DatasetNames.Validate(name);
        }
        catch (ArgumentException e)
        {
            return OpenAiError.BadRequest(e.Message, "name");
        }
        var split = http.Request.Query["split"].ToString() switch
        {
            "" or "all" => DatasetSplit.All,
            "train" => DatasetSplit.Train,
            "test" => DatasetSplit.Test,
            _ => (DatasetSplit?)null,
        };
        if (split is null) return OpenAiError.BadRequest("'split' must be train, test or all", "split");
        try
        {
            var tenant = RequestTenant.Get(http);
            var info = await store.GetDatasetAsync(tenant, name, http.RequestAborted);
            var examples = info is null ? null : await store.GetDatasetExamplesAsync(tenant, name, split.Value, http.RequestAborted);
            if (info is null || examples is null) return OpenAiError.Create(StatusCodes.Status404NotFound, $"no dataset named '{name}'", "invalid_request_error", "name", "not_found");
            var entries = examples.Select(e => new DatasetExampleEntry(JsonNode.Parse(e.MessagesJson), e.Split == DatasetSplit.Test ? "test" : "train", e.RecordId)).ToList();
            return Results.Json(Entry(info, entries), Protocol.Json);
        }
        catch (StoreException e)
        {
            return LoopErrors.StoreFailed(e);
        }
    }

    private static DatasetEntry Entry(DatasetInfo d, IReadOnlyList<DatasetExampleEntry>? examples) =>
        new("dataset", d.Name, d.Source, d.TrainCount, d.TestCount, d.ExampleCount, d.CreatedAt.ToUnixTimeSeconds(), examples);
}
