namespace Flywheel.Testing;

/// <summary>
/// Locates the repository root and the shared test data beside it (../shared), from any test's output folder.
/// Compiled into every test project by Directory.Build.props.
/// </summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Flywheel.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Flywheel.slnx)");
    });

    public static string RepoRoot => Root.Value;

    /// <summary>The shared data folder: $FLYWHEEL_SHARED, else ../shared beside the repository.</summary>
    public static string Shared =>
        Environment.GetEnvironmentVariable("FLYWHEEL_SHARED") is { Length: > 0 } env
            ? env
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string SharedFile(params string[] parts) => Path.Combine([Shared, .. parts]);

    /// <summary>Every .gguf file under the shared folder, vocab-only files included.</summary>
    public static IEnumerable<string> AllSharedGguf() =>
        Directory.EnumerateFiles(Shared, "*.gguf", SearchOption.AllDirectories).Order(StringComparer.Ordinal);

    /// <summary>A fresh empty folder under the system temp folder.</summary>
    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "flywheel-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
