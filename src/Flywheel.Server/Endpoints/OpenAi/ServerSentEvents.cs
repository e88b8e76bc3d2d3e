using System.Text.Json;
using Flywheel.Server.Capture;
using Microsoft.AspNetCore.Http;

namespace Flywheel.Server.Endpoints.OpenAi;

/// <summary>
/// Writes an SSE stream the way OpenAI does: <c>data: {json}</c> events, then <c>data: [DONE]</c>. With a
/// <see cref="CapturedRequest"/>, every event is shown to it, and [DONE] follows only once its record is durable.
/// </summary>
public sealed class ServerSentEvents(HttpResponse response, CapturedRequest? capture = null)
{
    private static readonly byte[] EventStart = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    private bool _started;

    public async Task SendAsync<T>(T payload, CancellationToken ct)
    {
        Start();
        var json = JsonSerializer.SerializeToUtf8Bytes(payload, Protocol.Json);
        capture?.Observe(payload);
        await response.Body.WriteAsync(EventStart, ct);
        await response.Body.WriteAsync(json, ct);
        await response.Body.WriteAsync(EventEnd, ct);
        await response.Body.FlushAsync(ct);
    }

    public async Task SendDoneAsync(CancellationToken ct)
    {
        Start();
        if (capture is not null && await capture.CommitAsync(ct) is { } error)
        {
            // Not recorded, so not answered: the client gets an error event and no [DONE].
            await SendAsync(new OpenAiError.ErrorEnvelope(new OpenAiError.ErrorBody(
                $"the response could not be recorded, so it is withheld: {error.Message}", "server_error", null, "capture_failed")), ct);
            return;
        }
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
