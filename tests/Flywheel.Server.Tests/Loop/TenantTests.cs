using System.Net;
using Flywheel.Server.Auth;
using Flywheel.Server.Tests.Capture;
using Flywheel.Store.Datasets;

namespace Flywheel.Server.Tests.Loop;

/// <summary>
/// Store keys decide the tenant; no endpoint lets one tenant read or touch another's records. Every cross-tenant
/// attempt is counted, and none may succeed.
/// </summary>
public class TenantTests
{
    [Fact]
    public async Task Store_keys_are_the_only_keys_and_set_the_tenant()
    {
        await using var store = await TestStores.OpenAsync();
        var acme = await store.CreateApiKeyAsync("acme");
        await using var server = await TestStores.ServeAsync(store, o => o with { ApiKeys = new HashSet<string> { "static-key" } });
        var ok = await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once", maxTokens: 2), acme.Key);
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.NotNull(await store.GetTrafficAsync("acme", ok.Id!));
        Assert.Null(await store.GetTrafficAsync(RequestTenant.Default, ok.Id!));

        // With keys in the store, static keys, made-up keys, a key with one character changed and no key are refused.
        var tampered = acme.Key[..^1] + (acme.Key[^1] == 'A' ? 'B' : 'A');
        foreach (var key in new[] { "static-key", "fw_000000000000_nope", tampered, null })
        {
            var refused = await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once", maxTokens: 2), key);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
            Assert.Equal("invalid_api_key", refused.ErrorCode);
            Assert.Equal("invalid_request_error", refused.Json.GetProperty("error").GetProperty("type").GetString());
        }
        // Probes stay open.
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_within_the_cache_time()
    {
        await using var store = await TestStores.OpenAsync();
        var key = await store.CreateApiKeyAsync("acme");
        await store.CreateApiKeyAsync("other"); // the store still holds keys after the revocation
        await using var server = await TestStores.ServeAsync(store);
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(server, "/v1/datasets", key.Key)).Status);
        Assert.True(await store.RevokeApiKeyAsync(key.KeyId));
        await Task.Delay(StoreKeys.CacheTime + TimeSpan.FromMilliseconds(200));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Api.GetAsync(server, "/v1/datasets", key.Key)).Status);
    }

    [Fact]
    public async Task Static_keys_apply_while_the_store_holds_none_and_the_tenant_is_default()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store, o => o with { ApiKeys = new HashSet<string> { "static-key" } });
        Assert.Equal(HttpStatusCode.Unauthorized, (await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once"), "wrong")).Status);
        var ok = await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once", maxTokens: 2), "static-key");
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.NotNull(await store.GetTrafficAsync(RequestTenant.Default, ok.Id!));
    }

    [Fact]
    public async Task No_tenant_can_reach_another_tenants_records_through_any_endpoint()
    {
        await using var store = await TestStores.OpenAsync();
        var alice = await store.CreateApiKeyAsync("alice");
        var bob = await store.CreateApiKeyAsync("bob");
        await store.CreateDatasetAsync(new NewDataset("alice", "alice-set", "test", [
            new DatasetExample("""[{"role":"user","content":"secret"},{"role":"assistant","content":"alice only"}]""", DatasetSplit.Train),
            new DatasetExample("""[{"role":"user","content":"x"},{"role":"assistant","content":"y"}]""", DatasetSplit.Test),
        ]));
        await using var server = await TestStores.ServeAsync(store);

        // Alice's responses, each kind.
        var aliceIds = new List<string>
        {
            (await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once", maxTokens: 3), alice.Key)).Id!,
            (await Api.StreamAsync(server, "/v1/chat/completions", Api.Chat("Once", maxTokens: 3, stream: true), alice.Key)).Id!,
            (await Api.PostAsync(server, "/v1/completions", Api.Completion("Once", maxTokens: 3), alice.Key)).Id!,
            (await Api.StreamAsync(server, "/v1/completions", Api.Completion("Once", maxTokens: 3, stream: true), alice.Key)).Id!,
        };
        Assert.Equal(4, await store.CountTrafficAsync("alice"));

        var attempts = 0;
        var succeeded = new List<string>();
        void Attempt(string what, bool success)
        {
            attempts++;
            if (success) succeeded.Add(what);
        }

        object[] feedbacks =
        [
            new { rating = "up" }, new { rating = "down" }, new { rating = 3 }, new { correction = "bob's answer" },
            new { correction = new[] { new { role = "assistant", content = "bob's answer" } } }, new { comment = "bob was here" },
        ];
        foreach (var id in aliceIds)
        {
            foreach (var feedback in feedbacks)
            {
                var body = System.Text.Json.JsonSerializer.SerializeToNode(feedback)!.AsObject();
                body["id"] = id;
                // As Bob, with an unknown key, and with no key at all.
                foreach (var key in new[] { bob.Key, "fw_aaaaaaaaaaaa_forged", null })
                {
                    var reply = await Api.PostAsync(server, "/v1/feedback", body.ToJsonString(), key);
                    Attempt($"feedback on {id} with key {key?[..6]}", reply.Status == HttpStatusCode.OK);
                    Assert.Equal(key == bob.Key ? HttpStatusCode.NotFound : HttpStatusCode.Unauthorized, reply.Status);
                }
            }
        }
        foreach (var key in new[] { bob.Key, "fw_aaaaaaaaaaaa_forged", null })
        {
            var list = await Api.GetAsync(server, "/v1/datasets", key);
            Attempt("list datasets", list.Status == HttpStatusCode.OK && list.Json.GetProperty("data").EnumerateArray().Any(d => d.GetProperty("name").GetString() == "alice-set"));
            foreach (var path in new[] { "/v1/datasets/alice-set", "/v1/datasets/alice-set?split=train", "/v1/datasets/alice-set?split=test", "/v1/datasets/alice-set?split=all" })
            {
                var show = await Api.GetAsync(server, path, key);
                Attempt($"GET {path}", show.Status == HttpStatusCode.OK);
                Assert.Equal(key == bob.Key ? HttpStatusCode.NotFound : HttpStatusCode.Unauthorized, show.Status);
            }
        }
        // Bob's own traffic never lands in Alice's records, nor does a response id collide with hers.
        var bobId = (await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once", maxTokens: 3), bob.Key)).Id!;
        Attempt("bob's request recorded as alice's", await store.GetTrafficAsync("alice", bobId) is not null);

        Assert.Empty(succeeded);
        Assert.Equal(4, await store.CountTrafficAsync("alice"));
        foreach (var id in aliceIds) Assert.Empty(await store.ListFeedbackAsync("alice", id));
        // Alice herself can do all of it, so the refusals above were about the tenant, not the requests.
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(server, "/v1/feedback", new { id = aliceIds[0], rating = "up" }, alice.Key)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(server, "/v1/datasets/alice-set", alice.Key)).Status);
        Console.WriteLine($"cross-tenant attempts: {attempts}, succeeded: {succeeded.Count}");
        Assert.Equal(aliceIds.Count * feedbacks.Length * 3 + 3 * 5 + 1, attempts);
    }
}
