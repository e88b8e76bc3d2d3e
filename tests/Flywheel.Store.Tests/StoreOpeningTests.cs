using System.Net;
using System.Net.Sockets;
using Flywheel.Testing;

namespace Flywheel.Store.Tests;

/// <summary>Opening a store from bad input gives one clear <see cref="StoreException"/>, never a driver exception.</summary>
public class StoreOpeningTests
{
    [Fact]
    public async Task The_sqlite_store_is_a_wal_file_in_the_data_folder()
    {
        var dir = Path.Combine(TestPaths.TempDir(), "nested", "data");
        await using (var store = await FlywheelStore.OpenAsync(dir, null))
        {
            Assert.Equal("sqlite:" + Path.Combine(dir, "flywheel.db"), store.Description);
            await store.CreateApiKeyAsync("acme");
        }
        Assert.True(File.Exists(Path.Combine(dir, "flywheel.db")));
        // Byte 18 and 19 of a SQLite header are 2 in WAL mode (write and read format versions).
        var header = File.ReadAllBytes(Path.Combine(dir, "flywheel.db"))[..20];
        Assert.Equal("SQLite format 3\0", System.Text.Encoding.ASCII.GetString(header, 0, 16));
        Assert.Equal(2, header[18]);
        Assert.Equal(2, header[19]);
    }

    [Fact]
    public async Task A_corrupt_sqlite_file_is_a_clear_error()
    {
        var dir = TestPaths.TempDir();
        var path = Path.Combine(dir, "flywheel.db");
        File.WriteAllBytes(path, System.Text.Encoding.ASCII.GetBytes(new string('x', 8192)));
        var e = await Assert.ThrowsAsync<StoreException>(() => FlywheelStore.OpenAsync(dir, null));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("not a SQLite database or is corrupt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_sqlite_store_is_a_clear_error()
    {
        var dir = TestPaths.TempDir();
        await using (var store = await FlywheelStore.OpenAsync(dir, null))
        {
            await store.WriteTrafficAsync(Enumerable.Range(0, 200).Select(_ => new Flywheel.Store.Traffic.TrafficRecord
            {
                Id = Flywheel.Store.Traffic.TrafficIds.New(Flywheel.Store.Traffic.TrafficKind.Chat), Tenant = "acme", Kind = Flywheel.Store.Traffic.TrafficKind.Chat, Model = "m",
                RequestJson = "[" + string.Join(",", Enumerable.Repeat("""{"role":"user","content":"padding padding padding"}""", 20)) + "]",
                CreatedAt = DateTimeOffset.UtcNow,
            }).ToList());
        }
        // Checkpoint the WAL into the file, then cut the file in half.
        var path = Path.Combine(dir, "flywheel.db");
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + path + ";Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            cmd.ExecuteNonQuery();
        }
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = await Assert.ThrowsAsync<StoreException>(async () =>
        {
            await using var store = await FlywheelStore.OpenAsync(dir, null);
            await store.CountTrafficAsync("acme");
        });
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_folder_that_is_a_file_is_a_clear_error()
    {
        var file = Path.Combine(TestPaths.TempDir(), "not-a-folder");
        File.WriteAllText(file, "x");
        var e = await Assert.ThrowsAsync<StoreException>(() => FlywheelStore.OpenAsync(file, null));
        Assert.Contains("is a file", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mysql://u:p@localhost/db", "not a store URL")]
    [InlineData("postgres//localhost/db", "not a store URL")]
    [InlineData("postgres://localhost", "names no database")]
    [InlineData("postgres://localhost/", "names no database")]
    [InlineData("postgres://u:p@localhost:5432/db?schema=Bad-Name", "schema 'Bad-Name'")]
    [InlineData("postgres://u:p@localhost:5432/db?colour=blue", "unknown option 'colour'")]
    [InlineData("postgres://u:p@localhost:5432/db?sslmode=sometimes", "sslmode 'sometimes'")]
    [InlineData("postgres://u:p@localhost:5432/db?timeout=0", "timeout '0'")]
    public async Task A_bad_store_url_is_a_clear_error(string url, string expected)
    {
        var e = await Assert.ThrowsAsync<StoreException>(() => FlywheelStore.OpenAsync(null, url));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(":p@", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Both_a_data_folder_and_a_url_is_an_error()
    {
        var e = await Assert.ThrowsAsync<StoreException>(() => FlywheelStore.OpenAsync(TestPaths.TempDir(), "postgres://localhost/db"));
        Assert.Contains("not both", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_postgres_is_a_clear_error()
    {
        // A port that was free a moment ago: nothing listens there.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var e = await Assert.ThrowsAsync<StoreException>(() => FlywheelStore.OpenAsync(null, $"postgres://u:secret@127.0.0.1:{port}/db?timeout=2"));
        Assert.Contains($"cannot reach PostgreSQL at 127.0.0.1:{port}/db", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Urls_parse_into_settings()
    {
        var (settings, schema) = Postgres.PostgresUrl.Parse("postgresql://fly%40wheel:p%3Ass@db.example:6543/traffic?schema=tenant_a&sslmode=require");
        Assert.Equal(("fly@wheel", "p:ss", "db.example", 6543, "traffic", "tenant_a"),
            (settings.Username, settings.Password, settings.Host, settings.Port, settings.Database, schema));
        Assert.Equal(Npgsql.SslMode.Require, settings.SslMode);
        var (plain, plainSchema) = Postgres.PostgresUrl.Parse("postgres://localhost/db");
        Assert.Equal((5432, "public"), (plain.Port, plainSchema));
        Assert.Equal("postgres://u:***@h/db", Postgres.PostgresUrl.Redact("postgres://u:pw@h/db"));
    }
}

/// <summary>Errors only a running PostgreSQL server can produce.</summary>
public class PostgresOpeningTests : INeedsPostgres
{
    [ProviderFact]
    public async Task A_missing_database_is_a_clear_error()
    {
        var uri = new Uri(PostgresTestServer.Url!);
        var e = await Assert.ThrowsAsync<StoreException>(() =>
            FlywheelStore.OpenAsync(null, $"postgres://{uri.UserInfo}@{uri.Host}:{uri.Port}/no_such_database_{Guid.NewGuid():N}"));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{uri.Host}:{uri.Port}", e.Message, StringComparison.Ordinal);
    }

    [ProviderFact]
    public async Task A_role_that_may_not_create_schemas_opens_a_store_in_an_existing_one()
    {
        var admin = new Uri(PostgresTestServer.Url!);
        string suffix = Guid.NewGuid().ToString("N")[..12];
        string role = "app_" + suffix, database = "appdb_" + suffix;
        var (settings, _) = Postgres.PostgresUrl.Parse(PostgresTestServer.Url!);
        await using (var connection = new Npgsql.NpgsqlConnection(settings.ConnectionString))
        {
            await connection.OpenAsync();
            foreach (var sql in new[] { $"CREATE ROLE {role} LOGIN PASSWORD 'pw'", $"CREATE DATABASE {database}" })
            {
                await using var command = new Npgsql.NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
            }
        }
        settings.Database = database;
        await using (var connection = new Npgsql.NpgsqlConnection(settings.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand($"GRANT CREATE, USAGE ON SCHEMA public TO {role}", connection);
            await command.ExecuteNonQueryAsync();
        }
        // The role may create tables in public but not schemas in the database.
        await using var store = await FlywheelStore.OpenAsync(null, $"postgres://{role}:pw@{admin.Host}:{admin.Port}/{database}");
        var key = await store.CreateApiKeyAsync("acme");
        Assert.Equal("acme", await store.ResolveApiKeyAsync(key.Key));
        // And a schema it may not create is a clear error, not a crash.
        var e = await Assert.ThrowsAsync<StoreException>(() => FlywheelStore.OpenAsync(null, $"postgres://{role}:pw@{admin.Host}:{admin.Port}/{database}?schema=elsewhere"));
        Assert.Contains("permission denied", e.Message, StringComparison.Ordinal);
    }
}
