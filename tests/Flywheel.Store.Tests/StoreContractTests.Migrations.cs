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
            r = r with { ReasoningText = null }; // version 1 has no reasoning column
            await InsertVersion1RowAsync(old, r);
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

    /// <summary>Writes a traffic row as a version 1 (or 2) store held it, with the columns it had.</summary>
    private static Task InsertVersion1RowAsync(SqlFlywheelStore store, Flywheel.Store.Traffic.TrafficRecord r)
    {
        static string Text(string? s) => s is null ? "NULL" : "'" + s.Replace("'", "''") + "'";
        return store.ExecuteForTestAsync(
            "INSERT INTO traffic (id, tenant, kind, model, adapter, request_json, parameters_json, output_text, tool_calls_json, prompt_tokens, completion_tokens, latency_ms, finish_reason, created_at) VALUES (" +
            string.Join(", ", Text(r.Id), Text(r.Tenant), Text(Flywheel.Store.Traffic.TrafficKinds.ToText(r.Kind)), Text(r.Model), Text(r.Adapter), Text(r.RequestJson), Text(r.ParametersJson),
                Text(r.OutputText), Text(r.ToolCallsJson), r.PromptTokens, r.CompletionTokens, r.LatencyMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Text(r.FinishReason), r.CreatedAt.ToUnixTimeMilliseconds()) + ")");
    }

    [ProviderFact]
    public async Task Opening_a_version_2_store_adds_the_reasoning_column_and_keeps_its_rows()
    {
        var location = NewLocation();
        var r = Record("acme") with { ReasoningText = null };
        await using (var old = await FlywheelStore.OpenAtVersionAsync(location.DataDir, location.Url, 2, default))
        {
            Assert.Equal(2, await old.GetSchemaVersionAsync(default));
            await InsertVersion1RowAsync(old, r);
            // Version 2 has no reasoning column, so today's writes need the migration.
            await Assert.ThrowsAnyAsync<Exception>(() => old.WriteTrafficAsync([Record("acme")]));
        }
        await using var migrated = await FlywheelStore.OpenAsync(location.DataDir, location.Url);
        Assert.Equal(r, await migrated.GetTrafficAsync("acme", r.Id));
        var withReasoning = Record("acme");
        await migrated.WriteTrafficAsync([withReasoning]);
        Assert.Equal(withReasoning, await migrated.GetTrafficAsync("acme", withReasoning.Id));
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
