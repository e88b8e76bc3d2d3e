using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Flywheel.Engine;
using Flywheel.Engine.Sampling;
using Flywheel.Server.Hosting;

namespace Flywheel.Server.Telemetry;

/// <summary>
/// Serving metrics on a <see cref="Meter"/>, exported by OpenTelemetry at /metrics in Prometheus format: requests,
/// tokens in and out, time to first token, inter-token latency, queue depth and KV-cache use. Thread-safe.
/// </summary>
public sealed class ServingMetrics : IDisposable
{
    public const string MeterName = "Flywheel.Server";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _requests;
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _completionTokens;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _interTokenLatency;

    public ServingMetrics(ModelRegistry models)
    {
        _requests = _meter.CreateCounter<long>("flywheel.requests", "{request}", "Generation requests finished, by endpoint and outcome.");
        _promptTokens = _meter.CreateCounter<long>("flywheel.tokens.prompt", "{token}", "Prompt tokens evaluated.");
        _completionTokens = _meter.CreateCounter<long>("flywheel.tokens.completion", "{token}", "Tokens generated.");
        _timeToFirstToken = _meter.CreateHistogram<double>("flywheel.time_to_first_token", "s", "From the start of generation to the first token.");
        _interTokenLatency = _meter.CreateHistogram<double>("flywheel.inter_token_latency", "s", "Time between consecutive generated tokens.");
        _meter.CreateObservableGauge("flywheel.queue.depth", () => Each(models, e => e.Waiting), "{request}", "Requests waiting to join the running batch (new or preempted).");
        _meter.CreateObservableGauge("flywheel.sequences.running", () => Each(models, e => e.Busy), "{sequence}", "Sequences in the running batch now.");
        _meter.CreateObservableGauge("flywheel.kv_cache.usage", () => Each(models, e => e.CacheCapacity == 0 ? 0 : (double)e.CachedTokens / e.CacheCapacity),
            "1", "Fraction of KV-cache positions held by running requests.");
        _meter.CreateObservableCounter("flywheel.kv_cache.reused_tokens", () => Each(models, e => e.Scheduler.ReusedTokens), "{token}",
            "Prompt positions attached from cached prefix blocks instead of being computed.");
    }

    /// <summary>Passes a generation's tokens through, timing them and counting them.</summary>
    public async IAsyncEnumerable<GeneratedToken> TrackAsync(InferenceEngine engine, GenerationRequest request, string endpoint, [EnumeratorCancellation] CancellationToken ct)
    {
        var model = new KeyValuePair<string, object?>("model", engine.Model.Name);
        _promptTokens.Add(request.PromptIds.Count, model);
        var clock = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        var first = true;
        var outcome = "cancelled";
        try
        {
            await foreach (var token in engine.GenerateAsync(request, ct))
            {
                if (token.Id >= 0 && token.Finish is not FinishReason.StopToken)
                {
                    var now = clock.Elapsed;
                    if (first) _timeToFirstToken.Record(now.TotalSeconds, model);
                    else _interTokenLatency.Record((now - last).TotalSeconds, model);
                    first = false;
                    last = now;
                    _completionTokens.Add(1, model);
                }
                if (token.Finish is not null) outcome = "ok";
                yield return token;
            }
        }
        finally
        {
            _requests.Add(1, model, new("endpoint", endpoint), new("outcome", outcome));
        }
    }

    /// <summary>Counts one finished embeddings request and its input tokens.</summary>
    public void RecordEmbeddings(InferenceEngine engine, int inputTokens)
    {
        var model = new KeyValuePair<string, object?>("model", engine.Model.Name);
        _promptTokens.Add(inputTokens, model);
        _requests.Add(1, model, new("endpoint", "embeddings"), new("outcome", "ok"));
    }

    private static IEnumerable<Measurement<T>> Each<T>(ModelRegistry models, Func<InferenceEngine, T> read) where T : struct
    {
        foreach (var name in models.Names)
        {
            if (models.Find(name, out var engine) == ModelLookup.Ready)
            {
                yield return new Measurement<T>(read(engine!), new KeyValuePair<string, object?>("model", name));
            }
        }
    }

    public void Dispose() => _meter.Dispose();
}
