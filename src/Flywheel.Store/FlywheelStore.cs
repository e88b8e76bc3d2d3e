using Flywheel.Store.Postgres;
using Flywheel.Store.Sqlite;

namespace Flywheel.Store;

/// <summary>Opens the store a command line or configuration names.</summary>
public static class FlywheelStore
{
    /// <summary>The SQLite file's name inside the data folder.</summary>
    public const string DatabaseFileName = "flywheel.db";

    /// <summary>The default data folder: <c>$FLYWHEEL_HOME</c> when set, else <c>~/.flywheel</c>.</summary>
    public static string DefaultDataDirectory =>
        Environment.GetEnvironmentVariable("FLYWHEEL_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".flywheel");

    /// <summary>
    /// Opens (creating and migrating as needed) PostgreSQL when <paramref name="storeUrl"/> is given
    /// (<c>postgres://user:pass@host:port/db[?schema=NAME]</c>, or <c>postgresql://</c>), else SQLite at
    /// <c>&lt;dataDir or the default&gt;/flywheel.db</c> in WAL mode. Both at once is an error.
    /// Throws <see cref="StoreException"/> with a one-line message when the store cannot be opened.
    /// </summary>
    public static async Task<IFlywheelStore> OpenAsync(string? dataDir, string? storeUrl, CancellationToken cancellationToken = default) =>
        await OpenAtVersionAsync(dataDir, storeUrl, null, cancellationToken);

    /// <summary>Synchronous <see cref="OpenAsync"/>, for command-line entry points.</summary>
    public static IFlywheelStore Open(string? dataDir, string? storeUrl) =>
        OpenAsync(dataDir, storeUrl).GetAwaiter().GetResult();

    /// <summary>Opens and migrates only up to <paramref name="targetVersion"/> (null: latest); tests make old stores with it.</summary>
    internal static async Task<SqlFlywheelStore> OpenAtVersionAsync(string? dataDir, string? storeUrl, int? targetVersion, CancellationToken cancellationToken)
    {
        if (storeUrl is not null && dataDir is not null)
        {
            throw new StoreException("give either a data folder (--data) or a store URL (--store), not both");
        }
        if (storeUrl is not null)
        {
            return await PostgresFlywheelStore.OpenAsync(storeUrl, targetVersion, cancellationToken);
        }
        string folder = Path.GetFullPath(dataDir ?? DefaultDataDirectory);
        if (File.Exists(folder))
        {
            throw new StoreException($"{folder} is a file; the data folder must be a folder");
        }
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"cannot create the data folder {folder}: {e.Message}", e);
        }
        return await SqliteFlywheelStore.OpenAsync(Path.Combine(folder, DatabaseFileName), targetVersion, cancellationToken);
    }
}
