using System.Data;
using System.Data.Common;
using System.Globalization;

namespace Flywheel.Store;

/// <summary>
/// The store over ADO.NET, shared by both providers: the SQL is the same, only opening a connection, locking for
/// migrations and recognising errors differ. Each call opens its own pooled connection, which makes the class
/// thread-safe without locks of its own.
/// </summary>
internal abstract partial class SqlFlywheelStore : IFlywheelStore
{
    public abstract string Description { get; }

    /// <summary>An open connection, ready for use (pragmas set, search path chosen).</summary>
    protected abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Serialises migrations between processes; called first inside the migration transaction.</summary>
    protected abstract Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    /// <summary>True when the exception is a primary-key or unique constraint violation.</summary>
    protected abstract bool IsUniqueViolation(Exception exception);

    /// <summary>A provider exception turned into a one-line <see cref="StoreException"/>, or null to let it pass.</summary>
    protected abstract StoreException? Translate(Exception exception);

    public abstract ValueTask DisposeAsync();

    /// <summary>Brings the schema up to <paramref name="targetVersion"/> (the latest when null), each step in order, all
    /// in one transaction under the migration lock, so concurrent openers wait and then find nothing to do.</summary>
    internal async Task MigrateAsync(int? targetVersion, CancellationToken cancellationToken)
    {
        int target = targetVersion ?? Migrations.Latest;
        await RunAsync(async (connection, ct) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await LockForMigrationAsync(connection, transaction, ct);
            await ExecuteAsync(connection, transaction,
                "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)", ct);
            int current = await ReadVersionAsync(connection, transaction, ct);
            if (current > Migrations.Latest)
            {
                throw new StoreException($"{Description}: schema version {current} is newer than this Flywheel understands ({Migrations.Latest}); upgrade Flywheel");
            }
            foreach (var step in Migrations.All.Where(s => s.Version > current && s.Version <= target))
            {
                foreach (var sql in step.Statements)
                {
                    await ExecuteAsync(connection, transaction, sql, ct);
                }
                await using var record = Command(connection, transaction,
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (@v, @d, @t)");
                Add(record, "v", (long)step.Version);
                Add(record, "d", step.Description);
                Add(record, "t", Now());
                await record.ExecuteNonQueryAsync(ct);
            }
            await transaction.CommitAsync(ct);
            return 0;
        }, cancellationToken);
    }

    /// <summary>The schema version the store is at.</summary>
    internal Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken) =>
        RunAsync((connection, ct) => ReadVersionAsync(connection, null, ct), cancellationToken);

    private static async Task<int> ReadVersionAsync(DbConnection connection, DbTransaction? transaction, CancellationToken ct)
    {
        await using var command = Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    /// <summary>Runs one statement; tests use it to fake old or future stores.</summary>
    internal Task ExecuteForTestAsync(string sql) =>
        RunAsync(async (connection, ct) =>
        {
            await ExecuteAsync(connection, null, sql, ct);
            return 0;
        }, default);

    /// <summary>Runs <paramref name="work"/> on a fresh connection, turning provider failures into <see cref="StoreException"/>.</summary>
    protected async Task<T> RunAsync<T>(Func<DbConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken);
            return await work(connection, cancellationToken);
        }
        catch (Exception e) when (e is not (StoreException or ArgumentException or OperationCanceledException) && Translate(e) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Rows per INSERT statement: one round trip carries many rows (PostgreSQL pays per statement), and
    /// 64 rows of 14 columns stay far below SQLite's limit of 32766 parameters.</summary>
    private const int RowsPerInsert = 64;

    /// <summary>
    /// Inserts rows with multi-row <c>INSERT ... VALUES (...), (...)</c> statements inside <paramref name="transaction"/>.
    /// Values are string, long, double or null; each column's type is taken from its first non-null value, else text.
    /// </summary>
    protected static async Task InsertRowsAsync(DbConnection connection, DbTransaction transaction, string table, string columns,
        IEnumerable<object?[]> rows, CancellationToken ct)
    {
        int width = columns.Split(',').Length;
        var chunk = new List<object?[]>(RowsPerInsert);
        foreach (var row in rows)
        {
            if (row.Length != width) throw new ArgumentException($"a row for {table} has {row.Length} values, not {width}");
            chunk.Add(row);
            if (chunk.Count == RowsPerInsert)
            {
                await InsertChunkAsync(connection, transaction, table, columns, width, chunk, ct);
                chunk.Clear();
            }
        }
        if (chunk.Count > 0) await InsertChunkAsync(connection, transaction, table, columns, width, chunk, ct);
    }

    private static async Task InsertChunkAsync(DbConnection connection, DbTransaction transaction, string table, string columns, int width,
        List<object?[]> chunk, CancellationToken ct)
    {
        var sql = new System.Text.StringBuilder($"INSERT INTO {table} ({columns}) VALUES ");
        await using var command = Command(connection, transaction, "");
        var types = Enumerable.Range(0, width).Select(c => ColumnType(chunk, c)).ToArray();
        for (int r = 0; r < chunk.Count; r++)
        {
            sql.Append(r == 0 ? "(" : ", (");
            for (int c = 0; c < width; c++)
            {
                string name = "p" + r.ToString(CultureInfo.InvariantCulture) + "_" + c.ToString(CultureInfo.InvariantCulture);
                sql.Append(c == 0 ? "@" : ", @").Append(name);
                Add(command, name, chunk[r][c], types[c]);
            }
            sql.Append(')');
        }
        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync(ct);
    }

    private static DbType ColumnType(List<object?[]> rows, int column)
    {
        foreach (var row in rows)
        {
            switch (row[column])
            {
                case long: return DbType.Int64;
                case double: return DbType.Double;
                case string: return DbType.String;
                case null: continue;
                default: throw new ArgumentException($"unsupported column value {row[column]!.GetType().Name}");
            }
        }
        return DbType.String;
    }

    protected static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    protected static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken ct)
    {
        await using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(ct);
    }

    // Parameters carry an explicit DbType so PostgreSQL knows a null's type.
    protected static void Add(DbCommand command, string name, string? value) => Add(command, name, value, DbType.String);

    protected static void Add(DbCommand command, string name, long? value) => Add(command, name, value, DbType.Int64);

    protected static void AddDouble(DbCommand command, string name, double value) => Add(command, name, value, DbType.Double);

    protected static void Add(DbCommand command, string name, object? value, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    protected static void Set(DbCommand command, string name, object? value) =>
        command.Parameters[name].Value = value ?? DBNull.Value;

    protected static string? TextOrNull(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    protected static long? LongOrNull(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    protected static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    protected static long ToMillis(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    protected static DateTimeOffset FromMillis(long millis) => DateTimeOffset.FromUnixTimeMilliseconds(millis);
}
