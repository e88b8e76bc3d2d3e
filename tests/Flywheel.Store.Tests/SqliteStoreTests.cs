using Flywheel.Testing;
using Xunit.Abstractions;

namespace Flywheel.Store.Tests;

/// <summary>The store suite on SQLite: a fresh data folder per store.</summary>
public sealed class SqliteStoreTests(ITestOutputHelper output) : StoreContractTests(output)
{
    protected override (string? DataDir, string? Url) NewLocation() => (TestPaths.TempDir(), null);
}
