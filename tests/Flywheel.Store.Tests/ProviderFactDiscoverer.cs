using Xunit.Abstractions;
using Xunit.Sdk;

namespace Flywheel.Store.Tests;

/// <summary>Skips <see cref="ProviderFactAttribute"/> tests of <see cref="INeedsPostgres"/> classes when no server is configured.</summary>
public sealed class ProviderFactDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        var type = testMethod.TestClass.Class.ToRuntimeType();
        if (type is not null && typeof(INeedsPostgres).IsAssignableFrom(type) && PostgresTestServer.Url is null)
        {
            yield return new XunitSkippedDataRowTestCase(diagnostics, display, displayOptions, testMethod,
                "FLYWHEEL_TEST_POSTGRES is not set (.ci/run starts a PostgreSQL server and sets it)");
            yield break;
        }
        yield return new XunitTestCase(diagnostics, display, displayOptions, testMethod);
    }
}
