using Xunit.Abstractions;

namespace Flywheel.Store.Tests;

/// <summary>The store suite on PostgreSQL (FLYWHEEL_TEST_POSTGRES): a fresh schema per store.</summary>
public sealed class PostgresStoreTests(ITestOutputHelper output) : StoreContractTests(output), INeedsPostgres
{
    protected override (string? DataDir, string? Url) NewLocation() => (null, PostgresTestServer.FreshSchemaUrl());
}
