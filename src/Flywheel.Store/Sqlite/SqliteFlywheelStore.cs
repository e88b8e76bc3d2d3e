using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Flywheel.Store.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, so readers never block the capture writer and a commit is one
/// append to the log. synchronous=FULL makes each commit survive power loss as well as a killed process; group
/// commit in the capture writer keeps that to one sync per batch.
/// </summary>
internal sealed class SqliteFlywheelStore : SqlFlywheelStore
{
    private readonly string _connectionString;

    private SqliteFlywheelStore(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Seconds a statement waits for another writer's lock (several processes may share the file).
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    public override string Description => "sqlite:" + Path;

    public static async Task<SqliteFlywheelStore> OpenAsync(string path, int? targetVersion, CancellationToken cancellationToken)
    {
        var store = new SqliteFlywheelStore(path);
        try
        {
            await store.RunAsync(async (connection, ct) =>
            {
                // WAL is a property of the file: set once, it stays for every later connection.
                await using var command = Command(connection, null, "PRAGMA journal_mode=WAL");
                string? mode = await command.ExecuteScalarAsync(ct) as string;
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new StoreException($"{store.Description}: cannot switch the database to WAL mode (got '{mode}')");
                }
                return 0;
            }, cancellationToken);
            await store.MigrateAsync(targetVersion, cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    // SQLite's own locking serialises writers: BEGIN IMMEDIATE (the default for BeginTransaction) takes the write
    // lock at once, so a second opener waits (busy timeout) and then sees the migrated schema.
    protected override Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    protected override bool IsUniqueViolation(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 19 /* SQLITE_CONSTRAINT */ } e
        && (e.SqliteExtendedErrorCode is 1555 /* PRIMARYKEY */ or 2067 /* UNIQUE */);

    protected override StoreException? Translate(Exception exception) => exception switch
    {
        SqliteException { SqliteErrorCode: 26 /* SQLITE_NOTADB */ or 11 /* SQLITE_CORRUPT */ } =>
            new StoreException($"{Path} is not a usable Flywheel store: the file is not a SQLite database or is corrupt", exception),
        SqliteException { SqliteErrorCode: 14 /* SQLITE_CANTOPEN */ } =>
            new StoreException($"cannot open {Path}: check the folder exists and is writable", exception),
        SqliteException { SqliteErrorCode: 8 /* SQLITE_READONLY */ } =>
            new StoreException($"{Path} is read-only", exception),
        SqliteException { SqliteErrorCode: 5 or 6 /* BUSY, LOCKED */ } =>
            new StoreException($"{Path} is locked by another process and stayed locked past the timeout", exception),
        SqliteException e => new StoreException($"{Description}: {e.Message}", exception),
        _ => null,
    };

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open (and the WAL un-checkpointed); release them so the file can be
        // moved or deleted once the store is disposed.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }
}
