using Flywheel.Store;
using Flywheel.Store.Traffic;

namespace Flywheel.Server;

/// <summary>How <c>flywheel serve</c> runs: which models under which names, where to listen, and limits.</summary>
public sealed record ServerOptions
{
    /// <summary>Served models, in order: name → path. The first is the default for requests that name none.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Models { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 8080;

    /// <summary>Sequences decoded together per model (continuous batching: one forward pass per step for all of them).</summary>
    public int Parallel { get; init; } = 1;

    /// <summary>KV cache positions per sequence; null means min(trained context, 4096).</summary>
    public int? ContextLength { get; init; }

    /// <summary>
    /// KV-cache positions all running sequences of a model may hold together; null means Parallel × ContextLength.
    /// Below that, the scheduler preempts (and later recomputes) the latest sequence when the cache is full.
    /// </summary>
    public int? CacheTokens { get; init; }

    /// <summary>Requests that may wait for a free sequence before new ones get HTTP 429.</summary>
    public int QueueLimit { get; init; } = 64;

    /// <summary>Accepted API keys; empty means no authentication.</summary>
    public IReadOnlySet<string> ApiKeys { get; init; } = new HashSet<string>();

    /// <summary>
    /// Tenants and their keys, captured traffic, feedback and datasets. Null means none: nothing is captured and
    /// /v1/feedback and /v1/datasets answer 404. The caller opens it and disposes it after the server stopped.
    /// </summary>
    public IFlywheelStore? Store { get; init; }

    /// <summary>Record chat and completion traffic in <see cref="Store"/> (each tenant may still switch it off).</summary>
    public bool Capture { get; init; } = true;

    /// <summary>Which kinds of personal data are replaced before a record is stored, for tenants with redaction on.</summary>
    public RedactionOptions Redaction { get; init; } = RedactionOptions.All;

    /// <summary>Queue and batch sizes of the capture writer; null means its defaults.</summary>
    public CaptureWriterOptions? CaptureWriter { get; init; }
}
