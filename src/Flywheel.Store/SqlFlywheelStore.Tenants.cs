using System.Data.Common;
using Flywheel.Store.Tenants;

namespace Flywheel.Store;

internal abstract partial class SqlFlywheelStore
{
    public Task<CreatedApiKey> CreateApiKeyAsync(string tenant, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        return RunAsync(async (connection, ct) =>
        {
            var (keyId, key) = ApiKeys.Generate();
            long now = Now();
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await EnsureTenantAsync(connection, transaction, tenant, now, ct);
            await using var insert = Command(connection, transaction,
                "INSERT INTO api_keys (key_id, tenant, key_hash, created_at) VALUES (@id, @tenant, @hash, @now)");
            Add(insert, "id", keyId);
            Add(insert, "tenant", tenant);
            Add(insert, "hash", ApiKeys.Hash(key));
            Add(insert, "now", now);
            await insert.ExecuteNonQueryAsync(ct);
            await transaction.CommitAsync(ct);
            return new CreatedApiKey(keyId, tenant, key, FromMillis(now));
        }, cancellationToken);
    }

    public Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string? tenant = null, CancellationToken cancellationToken = default)
    {
        if (tenant is not null) TenantNames.Validate(tenant);
        return RunAsync<IReadOnlyList<ApiKeyInfo>>(async (connection, ct) =>
        {
            await using var command = Command(connection, null,
                "SELECT key_id, tenant, created_at, revoked_at FROM api_keys WHERE (@tenant IS NULL OR tenant = @tenant) ORDER BY created_at, key_id");
            Add(command, "tenant", tenant);
            await using var reader = await command.ExecuteReaderAsync(ct);
            var keys = new List<ApiKeyInfo>();
            while (await reader.ReadAsync(ct))
            {
                keys.Add(new ApiKeyInfo(reader.GetString(0), reader.GetString(1), FromMillis(reader.GetInt64(2)),
                    LongOrNull(reader, 3) is { } revoked ? FromMillis(revoked) : null));
            }
            return keys;
        }, cancellationToken);
    }

    public Task<bool> RevokeApiKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        return RunAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, null,
                "UPDATE api_keys SET revoked_at = @now WHERE key_id = @id AND revoked_at IS NULL");
            Add(command, "now", Now());
            Add(command, "id", keyId);
            return await command.ExecuteNonQueryAsync(ct) == 1;
        }, cancellationToken);
    }

    public Task<string?> ResolveApiKeyAsync(string key, CancellationToken cancellationToken = default)
    {
        if (!ApiKeys.LooksLikeKey(key))
        {
            return Task.FromResult<string?>(null);
        }
        // Looked up by hash: the key has 256 bits of entropy, so the hash is as good as a secret and a plain index
        // lookup leaks nothing useful through timing.
        return RunAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, null,
                "SELECT tenant FROM api_keys WHERE key_hash = @hash AND revoked_at IS NULL");
            Add(command, "hash", ApiKeys.Hash(key));
            return await command.ExecuteScalarAsync(ct) as string;
        }, cancellationToken);
    }

    public Task<bool> HasApiKeysAsync(CancellationToken cancellationToken = default) =>
        RunAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, null, "SELECT 1 FROM api_keys LIMIT 1");
            return await command.ExecuteScalarAsync(ct) is not null;
        }, cancellationToken);

    public Task<TenantSettings> GetTenantSettingsAsync(string tenant, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        return RunAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, null,
                "SELECT capture_enabled, redaction_enabled FROM tenants WHERE name = @tenant");
            Add(command, "tenant", tenant);
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? new TenantSettings(reader.GetInt64(0) != 0, reader.GetInt64(1) != 0)
                : TenantSettings.Default;
        }, cancellationToken);
    }

    public Task SetTenantSettingsAsync(string tenant, TenantSettings settings, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        ArgumentNullException.ThrowIfNull(settings);
        return RunAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, null,
                """
                INSERT INTO tenants (name, capture_enabled, redaction_enabled, created_at) VALUES (@tenant, @capture, @redact, @now)
                ON CONFLICT (name) DO UPDATE SET capture_enabled = excluded.capture_enabled, redaction_enabled = excluded.redaction_enabled
                """);
            Add(command, "tenant", tenant);
            Add(command, "capture", settings.CaptureEnabled ? 1L : 0L);
            Add(command, "redact", settings.RedactionEnabled ? 1L : 0L);
            Add(command, "now", Now());
            return await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);
    }

    private static async Task EnsureTenantAsync(DbConnection connection, DbTransaction transaction, string tenant, long now, CancellationToken ct)
    {
        await using var command = Command(connection, transaction,
            "INSERT INTO tenants (name, created_at) VALUES (@tenant, @now) ON CONFLICT (name) DO NOTHING");
        Add(command, "tenant", tenant);
        Add(command, "now", now);
        await command.ExecuteNonQueryAsync(ct);
    }
}
