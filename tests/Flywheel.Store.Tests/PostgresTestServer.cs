namespace Flywheel.Store.Tests;

/// <summary>The PostgreSQL server tests may use: FLYWHEEL_TEST_POSTGRES, e.g. postgres://flywheel@127.0.0.1:5432/flywheel_test,
/// as a superuser (some tests create roles and databases), as .ci/run provides.</summary>
internal static class PostgresTestServer
{
    public static string? Url =>
        Environment.GetEnvironmentVariable("FLYWHEEL_TEST_POSTGRES") is { Length: > 0 } url ? url : null;

    /// <summary>The server's URL with a schema of its own, so tests never see each other's tables.</summary>
    public static string FreshSchemaUrl()
    {
        string url = Url ?? throw new InvalidOperationException("FLYWHEEL_TEST_POSTGRES is not set");
        string schema = "t_" + Guid.NewGuid().ToString("N");
        return url + (url.Contains('?') ? "&" : "?") + "schema=" + schema;
    }
}
