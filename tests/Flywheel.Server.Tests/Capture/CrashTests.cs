using System.Net;
using System.Text;
using System.Text.Json;
using Flywheel.Server.Auth;
using Flywheel.Store;
using Flywheel.Testing;

namespace Flywheel.Server.Tests.Capture;

/// <summary>
/// kill -9 during a burst of requests and feedback: after a restart on the same data folder, every response a
/// client received in full and every feedback that got a 200 is in the store.
/// </summary>
public class CrashTests
{
    private const int Clients = 12;
    private const int KillAfterResponses = 40;

    [Fact]
    public async Task Every_answered_request_and_acknowledged_feedback_survives_kill_9()
    {
        var data = TestPaths.TempDir();
        string[] serveArgs = ["--model", TestServer.Stories, "--parallel", "4", "--ctx", "256", "--data", data];
        var responses = new List<string>();
        var feedback = new List<(string RecordId, string FeedbackId)>();
        int attempted = 0, failed = 0;
        using (var server = await ServeProcess.StartAsync(serveArgs))
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            using var stop = new CancellationTokenSource();
            var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    Interlocked.Increment(ref attempted);
                    try
                    {
                        var id = await RequestAsync(http, c, i, stop.Token);
                        if (id is null) continue;
                        lock (responses)
                        {
                            responses.Add(id);
                            if (responses.Count >= KillAfterResponses) enough.TrySetResult();
                        }
                        var rating = (c + i) % 5 + 1;
                        using var reply = await http.PostAsync("/v1/feedback", Json(new { id, rating, comment = $"client {c} request {i}" }), stop.Token);
                        if (reply.StatusCode == HttpStatusCode.OK)
                        {
                            var feedbackId = JsonDocument.Parse(await reply.Content.ReadAsStringAsync(stop.Token)).RootElement.GetProperty("id").GetString()!;
                            lock (feedback) feedback.Add((id, feedbackId));
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or JsonException)
                    {
                        // The server is gone: what did not fully arrive was not acknowledged.
                        Interlocked.Increment(ref failed);
                        return;
                    }
                }
            })).ToList();
            await enough.Task.WaitAsync(TimeSpan.FromMinutes(2));
            server.Crash(); // mid-burst: every client has a request or a feedback in flight
            await stop.CancelAsync();
            await Task.WhenAll(clients);
        }
        string[] acknowledged;
        (string RecordId, string FeedbackId)[] acknowledgedFeedback;
        lock (responses) acknowledged = [.. responses];
        lock (feedback) acknowledgedFeedback = [.. feedback];
        Assert.True(failed > 0, "the kill interrupted nothing: no request was in flight");

        // Restart on the same data: the store opens (SQLite recovers its WAL) and the server answers again.
        using var restarted = await ServeProcess.StartAsync(serveArgs);
        using (var http = new HttpClient { BaseAddress = restarted.BaseAddress })
        {
            using var after = await http.PostAsync("/v1/completions", Json(new { prompt = "Once", max_tokens = 2 }));
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }
        await using var store = await FlywheelStore.OpenAsync(data, null);
        var missing = new List<string>();
        foreach (var id in acknowledged)
        {
            if (await store.GetTrafficAsync(RequestTenant.Default, id) is null) missing.Add(id);
        }
        var missingFeedback = new List<string>();
        foreach (var (recordId, feedbackId) in acknowledgedFeedback)
        {
            if (!(await store.ListFeedbackAsync(RequestTenant.Default, recordId)).Any(f => f.Id == feedbackId)) missingFeedback.Add(feedbackId);
        }
        var records = await store.CountTrafficAsync(RequestTenant.Default);
        Console.WriteLine($"crash test: {attempted} requests sent, {failed} cut off by the kill, {acknowledged.Length} responses received in full, {acknowledgedFeedback.Length} feedback acknowledged; " +
            $"after kill -9 and restart: {records} records in the store ({records - 1} from the burst), {acknowledged.Length - missing.Count} of {acknowledged.Length} answered responses and " +
            $"{acknowledgedFeedback.Length - missingFeedback.Count} of {acknowledgedFeedback.Length} acknowledged feedback found");
        Assert.Empty(missing);
        Assert.Empty(missingFeedback);
        Assert.True(acknowledged.Length >= KillAfterResponses);
        Assert.True(acknowledgedFeedback.Length > 0);
        Assert.Equal(acknowledged.Length, acknowledged.Distinct().Count());
    }

    /// <summary>One chat or completion, streamed or not, by turns; the response id once it fully arrived, else null.</summary>
    private static async Task<string?> RequestAsync(HttpClient http, int client, int index, CancellationToken ct)
    {
        var chat = (client + index) % 2 == 0;
        var stream = (client / 2 + index) % 2 == 0;
        object body = chat
            ? new { messages = new[] { new { role = "user", content = $"Story {client}.{index}" } }, max_tokens = 24, temperature = 0.8, seed = client * 1000 + index, stream }
            : new { prompt = $"Once upon a time {client}.{index}", max_tokens = 24, temperature = 0.8, seed = client * 1000 + index, stream };
        using var request = new HttpRequestMessage(HttpMethod.Post, chat ? "/v1/chat/completions" : "/v1/completions") { Content = Json(body) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode != HttpStatusCode.OK) return null;
        if (!stream)
        {
            // A body that does not parse did not fully arrive.
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("id").GetString();
        }
        string? id = null;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line == "data: [DONE]") return id;
            if (line.StartsWith("data: ", StringComparison.Ordinal)) id ??= JsonDocument.Parse(line[6..]).RootElement.GetProperty("id").GetString();
        }
        return null; // cut off before [DONE]
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}
