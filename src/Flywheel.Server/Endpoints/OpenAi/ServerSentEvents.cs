using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Flywheel.Server.Endpoints.OpenAi;

/// <summary>Writes an SSE stream the way OpenAI does: <c>data: {json}</c> events, then <c>data: [DONE]</c>.</summary>
public sealed class ServerSentEvents(HttpResponse response)
{
    private bool _started;

    public async Task SendAsync<T>(T payload, CancellationToken ct)
    {
        Start();
        var json = JsonSerializer.Serialize(payload, Protocol.Json);
        await response.WriteAsync($"data: {json}\n\n", ct);
        await response.Body.FlushAsync(ct);
    }

    public async Task SendDoneAsync(CancellationToken ct)
    {
        Start();
        await response.WriteAsync("data: [DONE]\n\n", ct);
        await response.Body.FlushAsync(ct);
    }

    private void Start()
    {
        if (_started) return;
        _started = true;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Ask proxies not to buffer the stream.
        response.Headers["X-Accel-Buffering"] = "no";
    }
}
