namespace Flywheel.Store.Tests;

public abstract partial class StoreContractTests
{
    [ProviderFact]
    public async Task A_fresh_store_is_at_the_latest_schema_version()
    {
        Assert.Equal(Migrations.Latest, await ((SqlFlywheelStore)Store).GetSchemaVersionAsync(default));
    }

    [ProviderFact]
    public async Task Opening_a_version_1_store_migrates_it_and_keeps_its_data()
    {
        var location = NewLocation();
        var r = Record("acme");
        await using (var old = await FlywheelStore.OpenAtVersionAsync(location.DataDir, location.Url, 1, default))
        {
            Assert.Equal(1, await old.GetSchemaVersionAsync(default));
            await old.WriteTrafficAsync([r]);
            var key = await old.CreateApiKeyAsync("acme");
            // Version 1 has no dataset tables.
            await Assert.ThrowsAsync<StoreException>(() => old.ListDatasetsAsync("acme"));
            await old.RevokeApiKeyAsync(key.KeyId);
        }
        await using var migrated = (SqlFlywheelStore)await FlywheelStore.OpenAsync(location.DataDir, location.Url);
        Assert.Equal(Migrations.Latest, await migrated.GetSchemaVersionAsync(default));
        Assert.Equal(r, await migrated.GetTrafficAsync("acme", r.Id));
        Assert.Empty(await migrated.ListDatasetsAsync("acme"));
        Assert.Single(await migrated.ListApiKeysAsync("acme"));
    }

    [ProviderFact]
    public async Task Concurrent_opens_of_a_fresh_store_migrate_once()
    {
        var location = NewLocation();
        var stores = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => FlywheelStore.OpenAsync(location.DataDir, location.Url))));
        try
        {
            foreach (var s in stores)
            {
                Assert.Equal(Migrations.Latest, await ((SqlFlywheelStore)s).GetSchemaVersionAsync(default));
            }
            // Every opener can write at once, and each sees the others' writes.
            await Task.WhenAll(stores.Select(s => s.WriteTrafficAsync([Record("acme")])));
            Assert.Equal(stores.Length, await stores[0].CountTrafficAsync("acme"));
        }
        finally
        {
            foreach (var s in stores) await s.DisposeAsync();
        }
    }

    [ProviderFact]
    public async Task A_store_from_a_newer_flywheel_is_refused()
    {
        var sql = (SqlFlywheelStore)Store;
        await sql.ExecuteForTestAsync($"INSERT INTO schema_version (version, description, applied_at) VALUES ({Migrations.Latest + 1}, 'future', 0)");
        var e = await Assert.ThrowsAsync<StoreException>(ReopenAsync);
        Assert.Contains("newer", e.Message, StringComparison.Ordinal);
    }
}
