using System.Net;
using Flywheel.Server.Auth;
using Flywheel.Server.Tests.Capture;
using Flywheel.Store.Datasets;

namespace Flywheel.Server.Tests.Loop;

/// <summary>GET /v1/datasets and /v1/datasets/{name}: the caller's tenant's datasets, with their examples.</summary>
public class DatasetsTests
{
    private static NewDataset Dataset(string tenant, string name) => new(tenant, name, "test: where rating >= 4", [
        new DatasetExample("""[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]""", DatasetSplit.Train, "chatcmpl-a"),
        new DatasetExample("""[{"role":"user","content":"Bye"},{"role":"assistant","content":"Goodbye!"}]""", DatasetSplit.Train, null),
        new DatasetExample("""[{"role":"user","content":"Why?"},{"role":"assistant","content":"Because."}]""", DatasetSplit.Test, "chatcmpl-c"),
    ]);

    [Fact]
    public async Task Lists_and_shows_datasets_with_their_examples()
    {
        await using var store = await TestStores.OpenAsync();
        await store.CreateDatasetAsync(Dataset(RequestTenant.Default, "greetings"));
        await store.CreateDatasetAsync(Dataset(RequestTenant.Default, "answers"));
        await using var server = await TestStores.ServeAsync(store);

        var list = await Api.GetAsync(server, "/v1/datasets");
        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.Equal("list", list.Json.GetProperty("object").GetString());
        var data = list.Json.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(["answers", "greetings"], data.Select(d => d.GetProperty("name").GetString()));
        Assert.Equal(2, data[0].GetProperty("train_count").GetInt32());
        Assert.Equal(1, data[0].GetProperty("test_count").GetInt32());
        Assert.Equal(3, data[0].GetProperty("example_count").GetInt32());
        Assert.Equal("dataset", data[0].GetProperty("object").GetString());
        Assert.False(data[0].TryGetProperty("examples", out _));

        var one = await Api.GetAsync(server, "/v1/datasets/greetings");
        Assert.Equal(HttpStatusCode.OK, one.Status);
        Assert.Equal("test: where rating >= 4", one.Json.GetProperty("source").GetString());
        var examples = one.Json.GetProperty("examples").EnumerateArray().ToList();
        Assert.Equal(3, examples.Count);
        Assert.Equal("Hello!", examples[0].GetProperty("messages")[1].GetProperty("content").GetString());
        Assert.Equal("train", examples[0].GetProperty("split").GetString());
        Assert.Equal("chatcmpl-a", examples[0].GetProperty("record_id").GetString());
        Assert.False(examples[1].TryGetProperty("record_id", out _));

        var test = await Api.GetAsync(server, "/v1/datasets/greetings?split=test");
        var only = Assert.Single(test.Json.GetProperty("examples").EnumerateArray());
        Assert.Equal("test", only.GetProperty("split").GetString());
        Assert.Equal(2, (await Api.GetAsync(server, "/v1/datasets/greetings?split=train")).Json.GetProperty("examples").GetArrayLength());
    }

    [Fact]
    public async Task Empty_unknown_invalid_name_and_bad_split()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        Assert.Equal(0, (await Api.GetAsync(server, "/v1/datasets")).Json.GetProperty("data").GetArrayLength());
        var unknown = await Api.GetAsync(server, "/v1/datasets/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal("not_found", unknown.ErrorCode);
        var invalid = await Api.GetAsync(server, "/v1/datasets/bad%20name");
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Equal("name", invalid.Json.GetProperty("error").GetProperty("param").GetString());
        await store.CreateDatasetAsync(Dataset(RequestTenant.Default, "d"));
        var split = await Api.GetAsync(server, "/v1/datasets/d?split=validation");
        Assert.Equal(HttpStatusCode.BadRequest, split.Status);
        Assert.Equal("split", split.Json.GetProperty("error").GetProperty("param").GetString());
    }
}
