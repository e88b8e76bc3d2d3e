using System.Net;
using System.Text;
using System.Text.Json;

namespace Flywheel.Server.Tests;

/// <summary>
/// A burst of 16 streaming clients where half hang up mid-stream: their generations stop, the KV cache ends fully
/// free, and the other half finish with every token and no error.
/// </summary>
public class DisconnectTests
{
    private const int Clients = 16;
    private const int KeptTokens = 64;
    private const int DroppedAfterChunks = 3;
    // Far more than a hanging-up client can see: stories260K runs thousands of tokens a second, and a sequence that
    // finished before its client's hang-up reached the server would count as "ok", not "cancelled".
    private const int DroppedMaxTokens = 2000;

    [Fact]
    public async Task Half_of_16_streaming_clients_disconnect_and_the_cache_ends_free()
    {
        // A model name of its own, so this server's series in /metrics (a process-wide meter) are its alone.
        const string model = "disconnect-probe";
        await using var server = await TestServer.StartAsync(o => o with { Models = [new(model, TestServer.Stories)], Parallel = Clients, ContextLength = DroppedMaxTokens + 48 });
        server.Models.Find(model, out var engine);
        // No connection reuse and no draining on dispose: a client that stops reading really closes its socket.
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, PooledConnectionLifetime = TimeSpan.Zero })
        {
            BaseAddress = server.BaseAddress,
            Timeout = TimeSpan.FromMinutes(2),
        };

        // Each hanging-up client reads the cache's size just before it hangs up, when its own sequence is surely held
        // (it asked for 2000 tokens and has read 3). A sampling loop on the thread pool could starve while the kernel
        // threads and 16 streams kept both cores busy, and then saw nothing.
        long peakCached = 0;
        var gate = new Lock();
        void Observe()
        {
            var cached = engine!.CachedTokens;
            lock (gate) peakCached = Math.Max(peakCached, cached);
        }
        // One request first: in a fresh process the first pass JIT-compiles the engine (over a second here), and the
        // clients' first reads came only after the server had run every sequence to its end.
        var warm = await ClientAsync(http, model, Clients, drop: false, () => { });
        Assert.Null(warm.Error);
        var results = await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => Task.Run(() => ClientAsync(http, model, i, drop: i % 2 == 1, Observe))));
        // The server sees a hang-up at its next write or at the abort notice; give it a moment to drop the sequences.
        for (var wait = 0; wait < 500 && (engine!.CachedTokens != 0 || engine.Busy != 0 || engine.Waiting != 0); wait++) await Task.Delay(20);

        var kept = results.Where(r => !r.Dropped).ToList();
        var dropped = results.Where(r => r.Dropped).ToList();
        Assert.All(kept, r => Assert.Null(r.Error));
        Assert.All(kept, r => Assert.True(r.Done, $"client {r.Index} got no [DONE]"));
        Assert.All(kept, r => Assert.Equal("length", r.FinishReason));
        Assert.All(kept, r => Assert.Equal(KeptTokens, r.CompletionTokens));
        Assert.All(dropped, r => Assert.False(r.Done, $"client {r.Index} was meant to hang up mid-stream but got to [DONE]"));
        Assert.All(dropped, r => Assert.Equal(DroppedAfterChunks, r.ContentChunks));

        Assert.True(peakCached > 0, "the cache was never seen in use");
        Assert.Equal(0, engine!.CachedTokens);
        Assert.Equal(0, engine.Busy);
        Assert.Equal(0, engine.Waiting);
        string[] expected =
        [
            $"flywheel_kv_cache_usage[a-z_]*\\{{[^}}]*model=\"{model}\"[^}}]*\\}} 0(\\.0)?\\b",
            $"flywheel_requests[a-z_]*\\{{[^}}]*endpoint=\"chat\"[^}}]*model=\"{model}\"[^}}]*outcome=\"ok\"[^}}]*\\}} {Clients / 2 + 1}\\b",   // and the warm-up
            $"flywheel_requests[a-z_]*\\{{[^}}]*endpoint=\"chat\"[^}}]*model=\"{model}\"[^}}]*outcome=\"cancelled\"[^}}]*\\}} {Clients / 2}\\b",
        ];
        // A hung-up request's outcome is counted when its handler unwinds, which can come after the engine has
        // already freed its sequence: poll until the counts settle (or give up and let the asserts say what is off).
        var metrics = "";
        for (var wait = 0; wait < 250; wait++)
        {
            metrics = await server.Http.GetStringAsync("/metrics");
            if (expected.All(p => System.Text.RegularExpressions.Regex.IsMatch(metrics, p))) break;
            await Task.Delay(40);
        }
        var ours = string.Join('\n', metrics.Split('\n').Where(l => l.Contains($"model=\"{model}\"", StringComparison.Ordinal)));
        foreach (var pattern in expected)
        {
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(metrics, pattern), $"no line of /metrics matches {pattern}; this server's lines:\n{ours}");
        }
        Console.WriteLine($"disconnect burst: {Clients} clients, {dropped.Count} hung up, peak KV cache {peakCached} of {engine.CacheCapacity} positions, after: {engine.CachedTokens}");

        // The server is still healthy and serves the next request.
        using var after = await server.Http.PostAsync("/v1/chat/completions",
            new StringContent($"{{\"model\": \"{model}\", \"messages\": [{{\"role\": \"user\", \"content\": \"Hi\"}}], \"max_tokens\": 4}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    private sealed record ClientResult(int Index, bool Dropped, bool Done, int ContentChunks, string? FinishReason, int? CompletionTokens, string? Error);

    private static async Task<ClientResult> ClientAsync(HttpClient http, string model, int index, bool drop, Action beforeHangUp)
    {
        var body = JsonSerializer.Serialize(new
        {
            model,
            messages = new[] { new { role = "user", content = $"Story {index}: once upon a time" } },
            max_tokens = drop ? DroppedMaxTokens : KeptTokens,
            ignore_eos = true,
            temperature = 0.8,
            seed = index,
            stream = true,
            stream_options = new { include_usage = true },
        });
        using var hangUp = new CancellationTokenSource();
        var chunks = 0;
        string? finish = null;
        int? usage = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, hangUp.Token);
            if (response.StatusCode != HttpStatusCode.OK) return new(index, drop, false, 0, null, null, $"HTTP {(int)response.StatusCode}");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(hangUp.Token));
            while (await reader.ReadLineAsync(hangUp.Token) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                if (line == "data: [DONE]") return new(index, drop, true, chunks, finish, usage, null);
                using var chunk = JsonDocument.Parse(line[6..]);
                if (chunk.RootElement.TryGetProperty("error", out var error)) return new(index, drop, false, chunks, finish, usage, error.ToString());
                if (chunk.RootElement.TryGetProperty("usage", out var u)) usage = u.GetProperty("completion_tokens").GetInt32();
                foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
                {
                    if (choice.GetProperty("delta").TryGetProperty("content", out var c) && c.GetString() is { Length: > 0 }) chunks++;
                    if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String) finish = f.GetString();
                }
                if (drop && chunks == DroppedAfterChunks)
                {
                    // Hang up: cancelling the read aborts the connection.
                    beforeHangUp();
                    await hangUp.CancelAsync();
                    return new(index, drop, false, chunks, finish, usage, null);
                }
            }
            return new(index, drop, false, chunks, finish, usage, "the stream ended without [DONE]");
        }
        catch (Exception e) when (!drop || !hangUp.IsCancellationRequested)
        {
            return new(index, drop, false, chunks, finish, usage, e.Message);
        }
    }
}
