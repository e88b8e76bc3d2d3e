using System.Data.Common;
using System.Net.Sockets;
using Npgsql;

namespace Flywheel.Store.Postgres;

/// <summary>
/// The scale-out store: several <c>flywheel serve</c> replicas share one PostgreSQL database. Connections come from
/// one pooled <see cref="NpgsqlDataSource"/>, which is thread-safe.
/// </summary>
internal sealed class PostgresFlywheelStore : SqlFlywheelStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _schema;
    private readonly string _where;

    private PostgresFlywheelStore(NpgsqlConnectionStringBuilder settings, string schema)
    {
        _schema = schema;
        _where = $"{settings.Host}:{settings.Port}/{settings.Database}";
        Description = $"postgres://{_where}" + (schema == "public" ? "" : $"?schema={schema}");
        _dataSource = NpgsqlDataSource.Create(settings);
    }

    public override string Description { get; }

    public static async Task<PostgresFlywheelStore> OpenAsync(string url, int? targetVersion, CancellationToken cancellationToken)
    {
        var (settings, schema) = PostgresUrl.Parse(url);
        var store = new PostgresFlywheelStore(settings, schema);
        try
        {
            await store.MigrateAsync(targetVersion, cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    /// <summary>
    /// A transaction-scoped advisory lock keyed by the schema: replicas starting together against a fresh database
    /// queue here, the first creates the schema, the rest find it current. The lock is released at commit.
    /// </summary>
    protected override async Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using (var command = Command(connection, transaction, "SELECT pg_advisory_xact_lock(@key)"))
        {
            Add(command, "key", LockKey(_schema));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        // Create the schema only when missing: PostgreSQL checks the database's CREATE privilege even for
        // CREATE SCHEMA IF NOT EXISTS, and an application role usually lacks it while owning its schema.
        await using (var exists = Command(connection, transaction, "SELECT 1 FROM pg_namespace WHERE nspname = @schema"))
        {
            Add(exists, "schema", _schema);
            if (await exists.ExecuteScalarAsync(cancellationToken) is not null) return;
        }
        // The schema name was validated to [a-z_][a-z0-9_]*, so quoting it is enough.
        await ExecuteAsync(connection, transaction, $"CREATE SCHEMA \"{_schema}\"", cancellationToken);
    }

    /// <summary>A stable 64-bit key (FNV-1a) for the schema, offset so it is unlikely to meet another program's keys.</summary>
    private static long LockKey(string schema)
    {
        ulong hash = 14695981039346656037;
        foreach (char c in "flywheel.migrate:" + schema)
        {
            hash = (hash ^ c) * 1099511628211;
        }
        return unchecked((long)hash);
    }

    protected override bool IsUniqueViolation(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    protected override StoreException? Translate(Exception exception) => exception switch
    {
        PostgresException { SqlState: PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification } e =>
            new StoreException($"PostgreSQL at {_where} refused the login: {e.MessageText}", exception),
        PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } e =>
            new StoreException($"PostgreSQL at {_where}: {e.MessageText} (create it first)", exception),
        PostgresException e => new StoreException($"PostgreSQL at {_where}: {e.MessageText}", exception),
        NpgsqlException { InnerException: SocketException or TimeoutException } or NpgsqlException { IsTransient: true } or TimeoutException or SocketException =>
            new StoreException($"cannot reach PostgreSQL at {_where}: {exception.GetBaseException().Message}", exception),
        NpgsqlException e => new StoreException($"PostgreSQL at {_where}: {e.Message}", exception),
        _ => null,
    };

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
