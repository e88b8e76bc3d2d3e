using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Flywheel.Server.Tests.Capture;

/// <summary>Raw HTTP calls to a test server, with an optional API key, returning the status and the parsed JSON.</summary>
internal static class Api
{
    public sealed record Reply(HttpStatusCode Status, JsonElement Json)
    {
        public string? Id => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("id", out var id) ? id.GetString() : null;

        public string? ErrorCode => Json.TryGetProperty("error", out var e) ? e.GetProperty("code").GetString() : null;
    }

    /// <summary>A streamed reply: its events, the ids they carry, the text they add up to, and whether [DONE] came.</summary>
    public sealed record Streamed(HttpStatusCode Status, IReadOnlyList<JsonElement> Events, IReadOnlySet<string> Ids, string Text, bool Done)
    {
        public string? Id => Ids.Count == 1 ? Ids.First() : null;
    }

    public static Task<Reply> PostAsync(TestServer server, string path, object body, string? key = null) =>
        SendAsync(server, HttpMethod.Post, path, body is string s ? s : JsonSerializer.Serialize(body), key);

    public static Task<Reply> GetAsync(TestServer server, string path, string? key = null) => SendAsync(server, HttpMethod.Get, path, null, key);

    public static async Task<Reply> SendAsync(TestServer server, HttpMethod method, string path, string? body, string? key)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Reply(response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<Streamed> StreamAsync(TestServer server, string path, object body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = new List<JsonElement>();
        var ids = new HashSet<string>();
        var text = new StringBuilder();
        var done = false;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            if (line == "data: [DONE]")
            {
                done = true;
                continue;
            }
            var e = JsonDocument.Parse(line[6..]).RootElement.Clone();
            events.Add(e);
            if (e.TryGetProperty("id", out var id)) ids.Add(id.GetString()!);
            if (!e.TryGetProperty("choices", out var choices)) continue;
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) text.Append(c.GetString());
                if (choice.TryGetProperty("text", out var t)) text.Append(t.GetString());
            }
        }
        return new Streamed(response.StatusCode, events, ids, text.ToString(), done);
    }

    public static object Chat(string content, int maxTokens = 12, bool stream = false, string? model = null) => new
    {
        model,
        messages = new[] { new { role = "user", content } },
        max_tokens = maxTokens,
        temperature = 0,
        stream,
    };

    public static object Completion(string prompt, int maxTokens = 12, bool stream = false) => new
    {
        prompt,
        max_tokens = maxTokens,
        temperature = 0,
        stream,
    };
}
