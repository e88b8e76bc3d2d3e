using Flywheel.Store;
using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

/// <summary><c>flywheel keys</c> against a fresh SQLite store, and PostgreSQL when FLYWHEEL_TEST_POSTGRES is set.</summary>
public class KeysCommandTests
{
    /// <summary>The store arguments: a fresh data folder, plus a fresh PostgreSQL schema when a server is configured.</summary>
    public static TheoryData<string> Stores()
    {
        var data = new TheoryData<string> { "--data" };
        if (Environment.GetEnvironmentVariable("FLYWHEEL_TEST_POSTGRES") is { Length: > 0 }) data.Add("--store");
        return data;
    }

    internal static string[] StoreArgs(string option)
    {
        if (option == "--data") return ["--data", TestPaths.TempDir()];
        string url = Environment.GetEnvironmentVariable("FLYWHEEL_TEST_POSTGRES")!;
        return ["--store", url + (url.Contains('?') ? "&" : "?") + "schema=cli_" + Guid.NewGuid().ToString("N")];
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Create_prints_the_key_alone_on_the_last_line_and_the_store_resolves_it(string option)
    {
        var store = StoreArgs(option);
        var r = CliRunner.Run(["keys", "create", "--tenant", "acme", .. store]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.TrimEnd('\n').Split('\n');
        string key = lines[^1];
        Assert.Matches("^fw_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$", key);
        Assert.Single(r.Stdout.Split(key)[1..]); // printed once

        await using (var s = await FlywheelStore.OpenAsync(option == "--data" ? store[1] : null, option == "--store" ? store[1] : null))
        {
            Assert.Equal("acme", await s.ResolveApiKeyAsync(key));
        }

        var list = CliRunner.Run(["keys", "list", .. store]);
        Assert.True(list.ExitCode == 0, list.Stderr);
        string keyId = key[..15];
        Assert.Contains(keyId, list.Stdout, StringComparison.Ordinal);
        Assert.Contains("active", list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(key, list.Stdout, StringComparison.Ordinal);

        var revoke = CliRunner.Run(["keys", "revoke", keyId, .. store]);
        Assert.True(revoke.ExitCode == 0, revoke.Stderr);
        Assert.Contains("revoked", CliRunner.Run(["keys", "list", "--tenant", "acme", .. store]).Stdout, StringComparison.Ordinal);
        var again = CliRunner.Run(["keys", "revoke", keyId, .. store]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains($"no active key with id '{keyId}'", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_input_is_one_line_with_exit_code_2()
    {
        var dir = TestPaths.TempDir();
        var file = Path.Combine(dir, "flywheel.db");
        File.WriteAllText(file, new string('x', 5000));
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["keys", "list", "--data", dir], "not a SQLite database or is corrupt"),
            (["keys", "list", "--store", "mysql://localhost/db"], "not a store URL"),
            (["keys", "list", "--store", "postgres://u:pw@127.0.0.1:1/db"], "cannot reach PostgreSQL at 127.0.0.1:1/db"),
            (["keys", "list", "--data", TestPaths.TempDir(), "--store", "postgres://localhost/db"], "not both"),
            (["keys", "create", "--tenant", "no spaces please", "--data", TestPaths.TempDir()], "tenant name 'no spaces please'"),
        })
        {
            var r = CliRunner.Run(args);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
            Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
            Assert.DoesNotContain("pw", r.Stderr, StringComparison.Ordinal);
        }
    }
}
