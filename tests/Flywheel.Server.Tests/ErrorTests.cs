using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Flywheel.Server.Tests;

/// <summary>Every kind of bad input gets its OpenAI-shaped error and status; none gets a 500.</summary>
public class ErrorTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Error)> PostAsync(TestServer server, string path, byte[] body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await server.Http.SendAsync(request);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        var error = json.GetProperty("error");
        foreach (var key2 in new[] { "message", "type", "param", "code" }) Assert.True(error.TryGetProperty(key2, out _), $"error lacks '{key2}'");
        return (response.StatusCode, error);
    }

    private static Task<(HttpStatusCode, JsonElement)> PostAsync(TestServer server, string path, string body) =>
        PostAsync(server, path, Encoding.UTF8.GetBytes(body));

    [Theory]
    [InlineData("{\"messages\": [", "not valid JSON")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{\"messages\": []}", "'messages'")]
    [InlineData("{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", "role")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", "content")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": \"hot\"}", "'temperature' must be a number")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_p\": 1.5}", "'top_p' must be between")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 0}", "'max_tokens'")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 3}", "n = 1")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stop\": [1]}", "'stop'")]
    public async Task Invalid_chat_requests_get_400(string body, string expected)
    {
        await using var server = await TestServer.StartAsync();
        var (status, error) = await PostAsync(server, "/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expected, error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Invalid_utf8_gets_400()
    {
        await using var server = await TestServer.StartAsync();
        var body = Encoding.UTF8.GetBytes("{\"prompt\": \"abc\"}");
        body[12] = 0xFF;
        var (status, _) = await PostAsync(server, "/v1/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Unknown_model_gets_404()
    {
        await using var server = await TestServer.StartAsync();
        var (status, error) = await PostAsync(server, "/v1/chat/completions", "{\"model\": \"gpt-9\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Contains("gpt-9", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Prompt_longer_than_the_context_gets_400_saying_by_how_much()
    {
        await using var server = await TestServer.StartAsync();
        var prompt = string.Concat(Enumerable.Repeat("Lily and Tom went to the park. ", 60));
        var (status, error) = await PostAsync(server, "/v1/completions", JsonSerializer.Serialize(new { prompt }));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Matches("maximum context length is 256 tokens, but the prompt is [0-9]+ tokens \\([0-9]+ too many", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Missing_and_bad_keys_get_401()
    {
        await using var server = await TestServer.StartAsync(o => o with { ApiKeys = new HashSet<string> { "k1" } });
        var body = "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 1}";
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server, "/v1/chat/completions", Encoding.UTF8.GetBytes(body))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server, "/v1/chat/completions", Encoding.UTF8.GetBytes(body), "k2")).Status);
        using var health = await server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Full_queue_gets_429_and_the_server_keeps_serving()
    {
        await using var server = await TestServer.StartAsync(o => o with { Parallel = 1, QueueLimit = 0 });
        // Hold the only session with a long streaming request, then ask again.
        using var holding = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent("{\"prompt\": \"Once upon a time\", \"max_tokens\": 200, \"stream\": true, \"ignore_eos\": true}", Encoding.UTF8, "application/json"),
        };
        using var held = await server.Http.SendAsync(holding, HttpCompletionOption.ResponseHeadersRead);
        var (status, error) = await PostAsync(server, "/v1/completions", "{\"prompt\": \"Hi\", \"max_tokens\": 1}");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("queue_full", error.GetProperty("code").GetString());
        await held.Content.ReadAsStringAsync();
        using var after = await server.Http.PostAsync("/v1/completions", new StringContent("{\"prompt\": \"Hi\", \"max_tokens\": 1}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Model_that_fails_to_load_gets_503_and_unhealthy()
    {
        var broken = Path.Combine(Flywheel.Testing.TestPaths.TempDir(), "broken.gguf");
        File.WriteAllBytes(broken, File.ReadAllBytes(TestServer.Stories)[..5000]);
        await using var server = await TestServer.StartAsync(o => o with { Models = [new("broken", broken)] }, waitForModels: false);
        await Assert.ThrowsAnyAsync<Exception>(() => server.Models.WhenAllLoaded());
        using var health = await server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("broken.gguf", await health.Content.ReadAsStringAsync());
        var (status, _) = await PostAsync(server, "/v1/completions", "{\"prompt\": \"Hi\"}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
    }

    /// <summary>
    /// A model folder whose config.json is a named pipe: the load blocks reading it until the test writes, so the
    /// server is held "still loading" for as long as the test needs, with no timing involved.
    /// </summary>
    [LinuxFact]
    public async Task Model_still_loading_gets_503_and_health_says_loading()
    {
        var folder = Directory.CreateDirectory(Path.Combine(Flywheel.Testing.TestPaths.TempDir(), "loading-" + Guid.NewGuid().ToString("N")));
        var config = Path.Combine(folder.FullName, "config.json");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [config])) await mkfifo.WaitForExitAsync();
        await using var server = await TestServer.StartAsync(o => o with { Models = [new("slow", folder.FullName)] }, waitForModels: false);
        try
        {
            using var health = await server.Http.GetAsync("/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Contains("loading", await health.Content.ReadAsStringAsync());
            var (status, error) = await PostAsync(server, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("model_loading", error.GetProperty("code").GetString());
            Assert.Contains("still loading", error.GetProperty("message").GetString());
        }
        finally
        {
            // Let the load end: the pipe gives the reader "{" and closes, and the load fails on the bad JSON.
            await using (var writer = new FileStream(config, FileMode.Open, FileAccess.Write)) await writer.WriteAsync("{"u8.ToArray());
            await Assert.ThrowsAnyAsync<Exception>(() => server.Models.WhenAllLoaded());
        }
    }

    [Fact]
    public async Task Client_that_disconnects_mid_stream_frees_its_session()
    {
        // A long generation, so it is still running when the client has read its first bytes: the demo model writes
        // 2,000 tokens in well under a second on a quiet machine, which raced the client's first read.
        await using var server = await TestServer.StartAsync(o => o with { Parallel = 2, ContextLength = 16384 });
        var engine = server.Models.Find(null, out var e) == Hosting.ModelLookup.Ready ? e! : throw new InvalidOperationException();
        using (var cts = new CancellationTokenSource())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent("{\"prompt\": \"Once upon a time\", \"max_tokens\": 16000, \"stream\": true, \"ignore_eos\": true}", Encoding.UTF8, "application/json"),
            };
            using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
            var buffer = new byte[64];
            Assert.True(await stream.ReadAsync(buffer, cts.Token) > 0);
            Assert.Equal(1, engine.Busy);
            cts.Cancel();
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (engine.Busy > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(0, engine.Busy);
        using var after = await server.Http.PostAsync("/v1/completions", new StringContent("{\"prompt\": \"Hi\", \"max_tokens\": 2}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
