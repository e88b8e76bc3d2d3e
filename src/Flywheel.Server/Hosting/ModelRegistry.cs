using Flywheel.Engine;

namespace Flywheel.Server.Hosting;

/// <summary>
/// The served models by name. Models load in the background after the server starts listening, so health checks
/// and clients get a clear 503 "loading" instead of a refused connection. Thread-safe.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private readonly Dictionary<string, Task<InferenceEngine>> _engines = new(StringComparer.Ordinal);

    public ModelRegistry(ServerOptions options)
    {
        foreach (var (name, path) in options.Models)
        {
            _engines[name] = Task.Run(() =>
                new InferenceEngine(LoadedModel.Load(name, path), options.Parallel, options.QueueLimit, options.ContextLength, options.CacheTokens));
        }
        DefaultName = options.Models[0].Key;
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    public string DefaultName { get; }
    public long Created { get; }
    public IEnumerable<string> Names => _engines.Keys;

    public bool AllLoaded => _engines.Values.All(t => t.IsCompletedSuccessfully);

    /// <summary>The first load failure, if any model failed to load.</summary>
    public Exception? LoadError => _engines.Values.FirstOrDefault(t => t.IsFaulted)?.Exception?.InnerException;

    public Task WhenAllLoaded() => Task.WhenAll(_engines.Values);

    /// <summary>Finds a model: <see cref="ModelLookup.Unknown"/>, <see cref="ModelLookup.Loading"/> or ready.</summary>
    public ModelLookup Find(string? name, out InferenceEngine? engine)
    {
        engine = null;
        if (!_engines.TryGetValue(name ?? DefaultName, out var task)) return ModelLookup.Unknown;
        if (task.IsFaulted) return ModelLookup.Failed;
        if (!task.IsCompletedSuccessfully) return ModelLookup.Loading;
        engine = task.Result;
        return ModelLookup.Ready;
    }

    public void Dispose()
    {
        foreach (var t in _engines.Values)
        {
            if (t.IsCompletedSuccessfully) t.Result.Dispose();
        }
    }
}

public enum ModelLookup
{
    Ready,
    Loading,
    Unknown,
    Failed,
}
