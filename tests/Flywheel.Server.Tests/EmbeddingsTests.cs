using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Embeddings;

namespace Flywheel.Server.Tests;

/// <summary>/v1/embeddings through the official OpenAI SDK (which asks for base64) and as raw JSON.</summary>
public class EmbeddingsTests
{
    private static EmbeddingClient Client(TestServer server) =>
        new("stories260K", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });

    private static double Norm(ReadOnlySpan<float> v)
    {
        var sum = 0.0;
        foreach (var x in v) sum += (double)x * x;
        return Math.Sqrt(sum);
    }

    [Fact]
    public async Task Vectors_are_unit_length_and_deterministic()
    {
        await using var server = await TestServer.StartAsync();
        var client = Client(server);
        var a = (await client.GenerateEmbeddingAsync("Once upon a time there was a dog.")).Value.ToFloats();
        var b = (await client.GenerateEmbeddingAsync("Once upon a time there was a dog.")).Value.ToFloats();
        var c = (await client.GenerateEmbeddingAsync("The girl ate a big red apple.")).Value.ToFloats();
        Assert.Equal(64, a.Length); // stories260K: n_embd = 64
        Assert.Equal(1.0, Norm(a.Span), 4);
        Assert.Equal(1.0, Norm(c.Span), 4);
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.NotEqual(a.ToArray(), c.ToArray());
    }

    [Fact]
    public async Task A_batch_returns_one_vector_per_input_in_order()
    {
        await using var server = await TestServer.StartAsync();
        var client = Client(server);
        string[] texts = ["Lily went to the park.", "Tom had a red ball.", "The sun was hot."];
        var batch = (await client.GenerateEmbeddingsAsync(texts)).Value;
        Assert.Equal(3, batch.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(i, batch[i].Index);
            var single = (await client.GenerateEmbeddingAsync(texts[i])).Value.ToFloats();
            Assert.Equal(single.ToArray(), batch[i].ToFloats().ToArray());
        }
        Assert.True(batch.Usage.InputTokenCount > 0);
        Assert.Equal(batch.Usage.InputTokenCount, batch.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Float_format_token_ids_and_shape_match_openai()
    {
        await using var server = await TestServer.StartAsync();
        var text = await PostAsync(server, "{\"input\": \"Lily went to the park.\", \"encoding_format\": \"float\"}");
        Assert.Equal(HttpStatusCode.OK, text.Status);
        var json = text.Json;
        Assert.Equal("list", json.GetProperty("object").GetString());
        Assert.Equal("stories260K", json.GetProperty("model").GetString());
        var item = json.GetProperty("data")[0];
        Assert.Equal("embedding", item.GetProperty("object").GetString());
        Assert.Equal(0, item.GetProperty("index").GetInt32());
        var vector = item.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(64, vector.Length);
        var promptTokens = json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        Assert.Equal(promptTokens, json.GetProperty("usage").GetProperty("total_tokens").GetInt32());

        // The same text as token ids (BOS included, as raw text is tokenized) gives the same vector.
        var ids = server.Models.Find(null, out var engine) == Hosting.ModelLookup.Ready ? engine!.Model.TokenizeRaw("Lily went to the park.") : null;
        var byIds = await PostAsync(server, $"{{\"input\": [{string.Join(",", ids!)}], \"encoding_format\": \"float\"}}");
        Assert.Equal(HttpStatusCode.OK, byIds.Status);
        Assert.Equal(vector, byIds.Json.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray());
        Assert.Equal(promptTokens, ids!.Count);
    }

    [Theory]
    [InlineData("{}", "'input' is required", "input", null)]
    [InlineData("{\"input\": []}", "empty array", "input", null)]
    [InlineData("{\"input\": \"\"}", "empty strings", "input", null)]
    [InlineData("{\"input\": [\"a\", 5]}", "'input' must be", "input", null)]
    [InlineData("{\"input\": [[1, 2], []]}", "empty token arrays", "input", null)]
    [InlineData("{\"input\": [99999]}", "outside the vocabulary", "input", null)]
    [InlineData("{\"input\": \"hi\", \"encoding_format\": \"hex\"}", "encoding_format", "encoding_format", null)]
    [InlineData("{\"input\": \"hi\", \"dimensions\": 32}", "64 dimensions", "dimensions", null)]
    public async Task Invalid_requests_get_400(string body, string expected, string param, string? code)
    {
        await using var server = await TestServer.StartAsync();
        var (status, json) = await PostAsync(server, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = json.GetProperty("error");
        Assert.Contains(expected, error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Dimensions_equal_to_n_embd_are_accepted()
    {
        await using var server = await TestServer.StartAsync();
        var (status, _) = await PostAsync(server, "{\"input\": \"hi\", \"dimensions\": 64}");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Input_longer_than_the_context_gets_context_length_exceeded()
    {
        await using var server = await TestServer.StartAsync();
        var longText = string.Concat(Enumerable.Repeat("The little dog ran. ", 100)); // far beyond the 256-position test context
        var (status, json) = await PostAsync(server, JsonSerializer.Serialize(new { input = longText }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_length_exceeded", json.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("input", json.GetProperty("error").GetProperty("param").GetString());
        var sdk = await Assert.ThrowsAsync<ClientResultException>(() => Client(server).GenerateEmbeddingAsync(longText));
        Assert.Equal(400, sdk.Status);
    }

    [Fact]
    public async Task Unknown_model_gets_404()
    {
        await using var server = await TestServer.StartAsync();
        var (status, json) = await PostAsync(server, "{\"model\": \"nope\", \"input\": \"hi\"}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", json.GetProperty("error").GetProperty("code").GetString());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Json)> PostAsync(TestServer server, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await server.Http.PostAsync("/v1/embeddings", content);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}
