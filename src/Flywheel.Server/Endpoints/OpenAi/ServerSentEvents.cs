using System.Buffers;
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

    // The serializer takes formatting from the writer, so the protocol's encoder is repeated here.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = Protocol.Json.Encoder, SkipValidation = true };

    private bool _started;
    private Utf8JsonWriter? _json;

    public async Task SendAsync<T>(T payload, CancellationToken ct)
    {
        Start();
        // The whole event goes into the response pipe and out with one flush: a write to response.Body flushes on its
        // own, so writing the three parts there sent three chunks (three socket writes) per token.
        var pipe = response.BodyWriter;
        pipe.Write(EventStart);
        var json = _json ??= new Utf8JsonWriter(pipe, WriterOptions);
        json.Reset(pipe);
        JsonSerializer.Serialize(json, payload, Protocol.Json);
        json.Flush();
        capture?.Observe(payload);
        pipe.Write(EventEnd);
        await pipe.FlushAsync(ct);
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
