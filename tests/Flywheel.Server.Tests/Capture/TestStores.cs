using Flywheel.Store;
using Flywheel.Testing;

namespace Flywheel.Server.Tests.Capture;

/// <summary>Fresh SQLite stores in temporary folders, and servers over them.</summary>
internal static class TestStores
{
    public static Task<IFlywheelStore> OpenAsync() => FlywheelStore.OpenAsync(TestPaths.TempDir(), null);

    public static Task<TestServer> ServeAsync(IFlywheelStore store, Func<ServerOptions, ServerOptions>? configure = null) =>
        TestServer.StartAsync(o => configure?.Invoke(o with { Store = store }) ?? o with { Store = store });
}
