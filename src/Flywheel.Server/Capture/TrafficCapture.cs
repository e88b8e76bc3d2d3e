using Flywheel.Server.Auth;
using Flywheel.Server.Endpoints.OpenAi;
using Flywheel.Store.Traffic;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Flywheel.Server.Capture;

/// <summary>
/// Records every chat and completion request with its response in the store, through one
/// <see cref="CaptureWriter"/> (a bounded queue, written in batches off the generation path). The endpoints ask it
/// for a <see cref="CapturedRequest"/> per request; that decorates the engine's token stream and the response, and
/// the endpoint awaits the record's durability before it sends its final bytes, so an answered request is never
/// lost. With no store, or with capture switched off, requests pass through untouched. Thread-safe.
/// </summary>
public sealed class TrafficCapture : IAsyncDisposable
{
    private readonly ILogger _log;

    public TrafficCapture(ServerOptions options, ILogger<TrafficCapture> log)
    {
        _log = log;
        if (options.Store is not null && options.Capture)
        {
            Writer = new CaptureWriter(options.Store, options.CaptureWriter, new Redactor(options.Redaction));
        }
    }

    /// <summary>The writer, or null when nothing is captured.</summary>
    public CaptureWriter? Writer { get; }

    public bool Enabled => Writer is not null;

    /// <summary>
    /// Starts capturing one request of the request's tenant; its <see cref="CapturedRequest.Id"/> is the response id.
    /// Call after the body is read and the model found.
    /// </summary>
    /// <param name="model">The name the model is served under.</param>
    public CapturedRequest Begin(HttpContext http, TrafficKind kind, RequestFields fields, string model)
    {
        var capture = new CapturedRequest(this, kind, Enabled ? RequestTenant.Get(http) : RequestTenant.Default, model, fields.Body);
        // Kept with the request, so a request that ends unanswered can still be recorded (RequestHandling).
        http.Items[typeof(CapturedRequest)] = capture;
        return capture;
    }

    internal void LogFailure(string id, Exception error) => _log.LogError(error, "request {Id} failed after its generation started", id);

    internal async Task<Exception?> WriteAsync(TrafficRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await Writer!.EnqueueAsync(record, cancellationToken);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left while the queue was full; it will never see this response.
            return null;
        }
        catch (Exception e)
        {
            _log.LogError(e, "could not record response {Id}", record.Id);
            return e;
        }
    }

    /// <summary>Writes whatever is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Writer is not null) await Writer.DisposeAsync();
    }
}
