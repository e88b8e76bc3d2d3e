using System.Collections.Concurrent;
using System.Diagnostics;
using Flywheel.Store;
using Flywheel.Store.Tenants;

namespace Flywheel.Server.Auth;

/// <summary>
/// The API keys held in the store, with a short cache so that a request costs a dictionary lookup, not a query.
/// Whether the store holds any keys, and which tenant a key belongs to, are re-read after <see cref="CacheTime"/>,
/// so a key created with <c>flywheel keys create</c> while the server runs is taken, and a revoked key refused,
/// within that time. Thread-safe.
/// </summary>
public sealed class StoreKeys(IFlywheelStore store)
{
    public static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(2);

    // Bounds the cache against a client that cycles through many valid keys; it is simply emptied when full.
    private const int MaxCachedKeys = 10_000;

    private readonly ConcurrentDictionary<string, (string Tenant, long Expires)> _tenants = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (bool HasKeys, long Expires) _hasKeys = (false, 0);

    /// <summary>True when the store holds at least one key, revoked ones included (revoking the last key must lock the server, not open it): then only store keys are accepted.</summary>
    public async ValueTask<bool> HasKeysAsync(CancellationToken cancellationToken)
    {
        var current = _hasKeys;
        if (current.Expires > Stopwatch.GetTimestamp()) return current.HasKeys;
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            current = _hasKeys;
            if (current.Expires > Stopwatch.GetTimestamp()) return current.HasKeys;
            var hasKeys = await store.HasApiKeysAsync(cancellationToken);
            _hasKeys = (hasKeys, Stopwatch.GetTimestamp() + (long)(CacheTime.TotalSeconds * Stopwatch.Frequency));
            return hasKeys;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The tenant of a presented key, or null when the key is unknown, malformed or revoked.</summary>
    public async ValueTask<string?> ResolveAsync(string key, CancellationToken cancellationToken)
    {
        if (!ApiKeys.LooksLikeKey(key)) return null;
        var hash = ApiKeys.Hash(key);
        var now = Stopwatch.GetTimestamp();
        if (_tenants.TryGetValue(hash, out var cached) && cached.Expires > now) return cached.Tenant;
        var tenant = await store.ResolveApiKeyAsync(key, cancellationToken);
        if (tenant is null)
        {
            _tenants.TryRemove(hash, out _);
            return null;
        }
        if (_tenants.Count >= MaxCachedKeys) _tenants.Clear();
        _tenants[hash] = (tenant, now + (long)(CacheTime.TotalSeconds * Stopwatch.Frequency));
        return tenant;
    }
}
