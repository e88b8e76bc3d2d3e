using System.Net;
using System.Text;
using System.Text.Json;
using Flywheel.Server.Auth;
using Flywheel.Store;
using Flywheel.Store.Traffic;

namespace Flywheel.Server.Tests.Capture;

/// <summary>
/// Requests that are never fully answered are still recorded: a client that hangs up mid-stream or before its
/// unstreamed answer (finish reason <c>abandoned</c>), and a generation that fails after it started (<c>error</c>),
/// each with the output produced until then and its token counts. Such records stay out of datasets.
/// </summary>
public class UnansweredCaptureTests
{
    // Long enough that the hang-up (or failure) always lands mid-generation: the demo model writes a few hundred
    // tokens faster than a client reads five chunks and closes its socket, and then the request ends as "length".
    private const int MaxTokens = 4000;
    private const int Context = 4096;

    private static object Body(bool stream) => new
    {
        messages = new[] { new { role = "user", content = "Once upon a time" } },
        max_tokens = MaxTokens,
        ignore_eos = true,
        temperature = 0,
        stream,
    };

    private static HttpClient Client(TestServer server) =>
        // No connection reuse and no draining on dispose: a client that stops reading really closes its socket.
        new(new SocketsHttpHandler { MaxResponseDrainSize = 0, PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>Reads a stream until <paramref name="chunks"/> content chunks have come, then calls <paramref name="then"/>.</summary>
    /// <remarks>With <paramref name="drain"/> it then reads on until the server ends the stream.</remarks>
    private static async Task<(string Id, string Text)> ReadChunksAsync(HttpClient http, int chunks, Func<Task> then, CancellationToken ct, bool drain = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(JsonSerializer.Serialize(Body(stream: true)), Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        string? id = null;
        var text = new StringBuilder();
        var seen = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
            using var chunk = JsonDocument.Parse(line[6..]);
            id ??= chunk.RootElement.GetProperty("id").GetString();
            foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out var c) && c.GetString() is { Length: > 0 } s)
                {
                    text.Append(s);
                    seen++;
                }
            }
            if (seen == chunks) break;
        }
        Assert.Equal(chunks, seen);
        await then();
        if (drain)
        {
            // The server cuts the stream when the generation fails; until then the client is still there.
            var rest = await Record.ExceptionAsync(async () =>
            {
                while (await reader.ReadLineAsync(ct) is not null)
                {
                }
            });
            Assert.True(rest is null or IOException or HttpRequestException, rest?.ToString());
        }
        return (id!, text.ToString());
    }

    private static async Task<TrafficRecord> WaitForRecordAsync(IFlywheelStore store, Func<TrafficRecord, bool> match)
    {
        for (var i = 0; i < 500; i++)
        {
            var found = (await store.QueryExchangesAsync(RequestTenant.Default)).Select(e => e.Record).FirstOrDefault(match);
            if (found is not null) return found;
            await Task.Delay(20);
        }
        throw new TimeoutException("the unanswered request was not recorded");
    }

    [Fact]
    public async Task A_client_that_hangs_up_mid_stream_is_recorded_as_abandoned_with_its_partial_output()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store, o => o with { ContextLength = Context });
        using var http = Client(server);
        using var hangUp = new CancellationTokenSource();
        string id = "", received = "";
        var error = await Record.ExceptionAsync(async () => (id, received) = await ReadChunksAsync(http, 5, () => hangUp.CancelAsync(), hangUp.Token));
        Assert.Null(error);

        var record = await WaitForRecordAsync(store, r => r.Id == id);
        Assert.Equal(TrafficRecord.Abandoned, record.FinishReason);
        Assert.False(record.Answered);
        // The server may have sent a few chunks more than the client read before it saw the hang-up.
        Assert.StartsWith(received, record.OutputText);
        Assert.InRange(record.CompletionTokens, 5, MaxTokens - 1);
        Assert.True(record.PromptTokens > 0);
        Assert.Contains("Once upon a time", record.RequestJson);

        // The server goes on serving, and the fragment never becomes a training example.
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Hi", maxTokens: 4))).Status);
        var exchanges = await store.QueryExchangesAsync(RequestTenant.Default);
        Assert.Null(Flywheel.Store.Datasets.ExampleMessages.From(exchanges.Single(e => e.Record.Id == id)));
        Assert.NotNull(Flywheel.Store.Datasets.ExampleMessages.From(exchanges.Single(e => e.Record.Id != id)));
    }

    [Fact]
    public async Task A_client_that_hangs_up_before_its_unstreamed_answer_is_recorded_as_abandoned()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store, o => o with { ContextLength = Context });
        server.Models.Find(null, out var engine);
        using var http = Client(server);
        using var hangUp = new CancellationTokenSource();
        var request = http.PostAsync("/v1/chat/completions", new StringContent(JsonSerializer.Serialize(Body(stream: false)), Encoding.UTF8, "application/json"), hangUp.Token);
        // Hang up once generation is under way: the cache holds more than the prompt's first block.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (engine!.CachedTokens <= 32 && !request.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(1);
        if (request.IsCompleted)
        {
            using var early = await request;
            Assert.Fail($"the request ended before the hang-up: {(int)early.StatusCode} {await early.Content.ReadAsStringAsync()}");
        }
        Assert.True(engine.CachedTokens > 32, "the generation never got going");
        await hangUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);

        var record = await WaitForRecordAsync(store, _ => true);
        Assert.Equal(TrafficRecord.Abandoned, record.FinishReason);
        Assert.InRange(record.CompletionTokens, 1, MaxTokens - 1);
        Assert.False(string.IsNullOrEmpty(record.OutputText));
    }

    [Fact]
    public async Task A_generation_that_fails_mid_stream_is_recorded_as_error_with_its_partial_output()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store, o => o with { ContextLength = Context });
        server.Models.Find(null, out var engine);
        using var http = Client(server);
        // The engine stops under a running stream (as at shutdown): the generation fails after 3 chunks went out.
        var (id, received) = await ReadChunksAsync(http, 3, () => Task.Run(engine!.Dispose), CancellationToken.None, drain: true);

        var record = await WaitForRecordAsync(store, r => r.Id == id);
        Assert.Equal(TrafficRecord.Failed, record.FinishReason);
        Assert.StartsWith(received, record.OutputText);
        Assert.InRange(record.CompletionTokens, 3, MaxTokens - 1);
    }
}
