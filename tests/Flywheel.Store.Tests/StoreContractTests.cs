using Flywheel.Store.Tenants;
using Flywheel.Store.Traffic;
using Xunit.Abstractions;

namespace Flywheel.Store.Tests;

/// <summary>
/// The one suite both providers must pass. Each provider has a subclass (<see cref="SqliteStoreTests"/>,
/// <see cref="PostgresStoreTests"/>); each test opens a store of its own (a fresh folder, or a fresh schema).
/// </summary>
public abstract partial class StoreContractTests(ITestOutputHelper output) : IAsyncLifetime
{
    protected ITestOutputHelper Output { get; } = output;

    /// <summary>The store this test opened.</summary>
    protected IFlywheelStore Store { get; private set; } = null!;

    /// <summary>Where <see cref="Store"/> lives, to open it again.</summary>
    protected (string? DataDir, string? Url) Location { get; private set; }

    /// <summary>A location no other test uses.</summary>
    protected abstract (string? DataDir, string? Url) NewLocation();

    public async Task InitializeAsync()
    {
        Location = NewLocation();
        Store = await FlywheelStore.OpenAsync(Location.DataDir, Location.Url);
    }

    public async Task DisposeAsync() => await Store.DisposeAsync();

    protected Task<IFlywheelStore> ReopenAsync() => FlywheelStore.OpenAsync(Location.DataDir, Location.Url);

    private static int _counter;

    /// <summary>A record with every field set; ids are unique per test run.</summary>
    protected static TrafficRecord Record(string tenant, string? output = "Paris.", DateTimeOffset? at = null, TrafficKind kind = TrafficKind.Chat,
        string model = "qwen", string? user = null) => new()
    {
        Id = TrafficIds.New(kind),
        Tenant = tenant,
        Kind = kind,
        Model = model,
        Adapter = kind == TrafficKind.Chat ? "support-v1" : null,
        RequestJson = kind == TrafficKind.Chat
            ? $$"""[{"role":"system","content":"Be brief."},{"role":"user","content":"{{user ?? "Capital of France? #" + Interlocked.Increment(ref _counter)}}"}]"""
            : $$"""  "{{user ?? "Once upon a time #" + Interlocked.Increment(ref _counter)}}"  """.Trim(),
        ParametersJson = """{"temperature":0.2,"max_tokens":16}""",
        OutputText = output,
        ReasoningText = output is null ? null : "The user wants a capital; France's is Paris.",
        ToolCallsJson = null,
        PromptTokens = 12,
        CompletionTokens = 3,
        LatencyMs = 41.5,
        FinishReason = "stop",
        CreatedAt = at ?? DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
    };

    [ProviderFact]
    public async Task A_created_key_resolves_to_its_tenant_until_revoked()
    {
        Assert.False(await Store.HasApiKeysAsync());
        var created = await Store.CreateApiKeyAsync("acme");
        Assert.StartsWith(created.KeyId + "_", created.Key, StringComparison.Ordinal);
        Assert.True(created.Key.Length > 50);
        Assert.True(await Store.HasApiKeysAsync());
        Assert.Equal("acme", await Store.ResolveApiKeyAsync(created.Key));

        var other = await Store.CreateApiKeyAsync("globex");
        Assert.Equal("globex", await Store.ResolveApiKeyAsync(other.Key));
        Assert.NotEqual(created.Key, other.Key);

        var listed = await Store.ListApiKeysAsync();
        Assert.Equal(new[] { created.KeyId, other.KeyId }.Order(StringComparer.Ordinal), listed.Select(k => k.KeyId).Order(StringComparer.Ordinal));
        Assert.All(listed, k => Assert.False(k.IsRevoked));
        Assert.Single(await Store.ListApiKeysAsync("acme"));

        Assert.True(await Store.RevokeApiKeyAsync(created.KeyId));
        Assert.False(await Store.RevokeApiKeyAsync(created.KeyId));
        Assert.Null(await Store.ResolveApiKeyAsync(created.Key));
        Assert.True((await Store.ListApiKeysAsync("acme"))[0].IsRevoked);
        Assert.True(await Store.HasApiKeysAsync());
        Assert.True(await Store.RevokeApiKeyAsync(other.KeyId));
        // Every key revoked: the store still counts as holding keys, so a server on it stays locked.
        Assert.True(await Store.HasApiKeysAsync());
        Assert.Null(await Store.ResolveApiKeyAsync(other.Key));
    }

    [ProviderFact]
    public async Task Unknown_malformed_and_tampered_keys_resolve_to_nothing()
    {
        var created = await Store.CreateApiKeyAsync("acme");
        Assert.Null(await Store.ResolveApiKeyAsync(""));
        Assert.Null(await Store.ResolveApiKeyAsync("sk-not-a-flywheel-key"));
        Assert.Null(await Store.ResolveApiKeyAsync(created.KeyId));
        Assert.Null(await Store.ResolveApiKeyAsync(created.Key[..^1] + (created.Key[^1] == 'a' ? 'b' : 'a')));
        Assert.Null(await Store.ResolveApiKeyAsync(ApiKeys.Generate().Key));
        Assert.False(await Store.RevokeApiKeyAsync("fw_doesnotexist"));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.CreateApiKeyAsync("bad tenant name"));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.CreateApiKeyAsync(""));
    }

    [ProviderFact]
    public async Task Keys_are_stored_only_as_hashes()
    {
        var created = await Store.CreateApiKeyAsync("acme");
        await Store.DisposeAsync();
        // The secret must not appear anywhere the store can be read back from; for SQLite, not even in the file.
        if (Location.DataDir is { } dir)
        {
            var bytes = Directory.EnumerateFiles(dir).SelectMany(f => File.ReadAllBytes(f)).ToArray();
            string raw = System.Text.Encoding.Latin1.GetString(bytes);
            Assert.DoesNotContain(created.Key, raw, StringComparison.Ordinal);
            Assert.Contains(ApiKeys.Hash(created.Key), raw, StringComparison.Ordinal);
        }
        Store = await ReopenAsync();
        Assert.Equal("acme", await Store.ResolveApiKeyAsync(created.Key));
        Assert.DoesNotContain(await Store.ListApiKeysAsync(), k => k.ToString().Contains(created.Key, StringComparison.Ordinal));
    }

    [ProviderFact]
    public async Task Tenant_settings_default_on_and_persist()
    {
        Assert.Equal(TenantSettings.Default, await Store.GetTenantSettingsAsync("acme"));
        await Store.SetTenantSettingsAsync("acme", new TenantSettings(CaptureEnabled: false, RedactionEnabled: true));
        await Store.SetTenantSettingsAsync("globex", new TenantSettings(CaptureEnabled: true, RedactionEnabled: false));
        Assert.Equal(new TenantSettings(false, true), await Store.GetTenantSettingsAsync("acme"));
        Assert.Equal(new TenantSettings(true, false), await Store.GetTenantSettingsAsync("globex"));
        await Store.SetTenantSettingsAsync("acme", TenantSettings.Default);
        await using var again = await ReopenAsync();
        Assert.Equal(TenantSettings.Default, await again.GetTenantSettingsAsync("acme"));
    }
}
