using Flywheel.Store.Datasets;
using Flywheel.Store.Feedback;
using Flywheel.Store.Tenants;
using Flywheel.Store.Traffic;

namespace Flywheel.Store;

/// <summary>
/// Flywheel's durable memory: tenants and their API keys, captured traffic, feedback on it, and datasets built
/// from it. One interface over two providers (SQLite, the embedded default, and PostgreSQL for several replicas);
/// both hold the same schema. Open one with <see cref="FlywheelStore.OpenAsync"/>.
/// </summary>
/// <remarks>
/// <para>Thread-safety: every member is safe to call concurrently from any thread; each call takes its own pooled
/// connection. Calls may be made in any order after opening; dispose once, after the last call.</para>
/// <para>Tenant isolation: every method that reads or writes a record takes the tenant and matches it in SQL, so
/// a record, its feedback and a dataset are only visible to the tenant they belong to. A record of another tenant
/// is reported exactly as an unknown one, so ids do not leak across tenants.</para>
/// <para>Durability: a returned task means the write is committed (SQLite WAL with synchronous=FULL, or a
/// PostgreSQL commit); a process killed afterwards does not lose it.</para>
/// <para>Errors: an unreachable or corrupt store and a bad URL throw <see cref="StoreException"/> with a one-line
/// message; bad arguments throw <see cref="ArgumentException"/>.</para>
/// </remarks>
public interface IFlywheelStore : IAsyncDisposable
{
    /// <summary>Where the store lives, for logs: "sqlite:/path/flywheel.db" or "postgres://host:port/db" (no password).</summary>
    string Description { get; }

    // ---- tenants and API keys ----

    /// <summary>Creates an API key for <paramref name="tenant"/> (creating the tenant when new). The plaintext key is
    /// in the result and nowhere else: the store keeps only its SHA-256.</summary>
    Task<CreatedApiKey> CreateApiKeyAsync(string tenant, CancellationToken cancellationToken = default);

    /// <summary>Keys (never their secrets), oldest first; all tenants' when <paramref name="tenant"/> is null. Revoked keys included.</summary>
    Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string? tenant = null, CancellationToken cancellationToken = default);

    /// <summary>Revokes a key by its id (the <c>fw_XXXXXXXXXXXX</c> prefix). False when no such key or already revoked.</summary>
    Task<bool> RevokeApiKeyAsync(string keyId, CancellationToken cancellationToken = default);

    /// <summary>The tenant a presented key belongs to, or null when the key is unknown, malformed or revoked.</summary>
    Task<string?> ResolveApiKeyAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>True once the store holds any key, revoked ones included; then the server accepts only store keys.
    /// Revoked keys count so that revoking the last key locks the server instead of opening it to everyone.</summary>
    Task<bool> HasApiKeysAsync(CancellationToken cancellationToken = default);

    /// <summary>A tenant's settings; defaults (capture on, redaction on) for a tenant never configured.</summary>
    Task<TenantSettings> GetTenantSettingsAsync(string tenant, CancellationToken cancellationToken = default);

    /// <summary>Sets a tenant's settings, creating the tenant when new.</summary>
    Task SetTenantSettingsAsync(string tenant, TenantSettings settings, CancellationToken cancellationToken = default);

    // ---- traffic ----

    /// <summary>Writes records in one transaction (all or none). Records are stored as given: redaction and the
    /// capture switch are applied by <see cref="CaptureWriter"/>, which is the normal way to write traffic.
    /// Throws <see cref="StoreException"/> when an id already exists.</summary>
    Task WriteTrafficAsync(IReadOnlyList<TrafficRecord> records, CancellationToken cancellationToken = default);

    /// <summary>One record of <paramref name="tenant"/>, or null when unknown or another tenant's.</summary>
    Task<TrafficRecord?> GetTrafficAsync(string tenant, string id, CancellationToken cancellationToken = default);

    /// <summary>Number of records captured for <paramref name="tenant"/>.</summary>
    Task<long> CountTrafficAsync(string tenant, CancellationToken cancellationToken = default);

    /// <summary>The tenant's records created at or after <paramref name="since"/> (all when null), oldest first,
    /// each with a summary of its feedback (latest rating, latest correction).</summary>
    Task<IReadOnlyList<CapturedExchange>> QueryExchangesAsync(string tenant, DateTimeOffset? since = null, CancellationToken cancellationToken = default);

    // ---- feedback ----

    /// <summary>Stores feedback on one of the tenant's records. Returns only after the feedback is committed.
    /// <see cref="FeedbackOutcome.UnknownRecord"/> when the record does not exist or belongs to another tenant
    /// (deliberately the same answer, so ids of other tenants cannot be probed).</summary>
    Task<FeedbackResult> AddFeedbackAsync(string tenant, FeedbackInput feedback, CancellationToken cancellationToken = default);

    /// <summary>Feedback on one of the tenant's records, oldest first; empty when unknown or another tenant's.</summary>
    Task<IReadOnlyList<FeedbackRecord>> ListFeedbackAsync(string tenant, string recordId, CancellationToken cancellationToken = default);

    // ---- datasets ----

    /// <summary>Saves a dataset and its examples in one transaction. Throws <see cref="StoreException"/> when the
    /// tenant already has a dataset of that name. Build one from traffic with <see cref="DatasetBuilder"/>.</summary>
    Task<DatasetInfo> CreateDatasetAsync(NewDataset dataset, CancellationToken cancellationToken = default);

    /// <summary>The tenant's datasets, by name.</summary>
    Task<IReadOnlyList<DatasetInfo>> ListDatasetsAsync(string tenant, CancellationToken cancellationToken = default);

    /// <summary>One of the tenant's datasets, or null when unknown or another tenant's.</summary>
    Task<DatasetInfo?> GetDatasetAsync(string tenant, string name, CancellationToken cancellationToken = default);

    /// <summary>Examples of one of the tenant's datasets in their saved order, restricted to <paramref name="split"/>;
    /// null when the dataset is unknown or another tenant's.</summary>
    Task<IReadOnlyList<DatasetExample>?> GetDatasetExamplesAsync(string tenant, string name, DatasetSplit split, CancellationToken cancellationToken = default);

    /// <summary>Deletes one of the tenant's datasets. False when unknown or another tenant's.</summary>
    Task<bool> DeleteDatasetAsync(string tenant, string name, CancellationToken cancellationToken = default);
}
