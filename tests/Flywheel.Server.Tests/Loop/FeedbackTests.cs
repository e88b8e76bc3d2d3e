using System.Net;
using Flywheel.Server.Auth;
using Flywheel.Server.Tests.Capture;

namespace Flywheel.Server.Tests.Loop;

/// <summary>POST /v1/feedback: stored and durable before the 200, linked to its record; clear 4xx otherwise.</summary>
public class FeedbackTests
{
    [Theory]
    [InlineData("\"up\"", 5)]
    [InlineData("\"down\"", 1)]
    [InlineData("\"DOWN\"", 1)]
    [InlineData("3", 3)]
    [InlineData("\"4\"", 4)]
    public async Task Ratings_are_stored_on_the_1_to_5_scale(string rating, int expected)
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        var id = (await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once", maxTokens: 3))).Id!;
        var reply = await Api.PostAsync(server, "/v1/feedback", $"{{\"id\": \"{id}\", \"rating\": {rating}}}");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("feedback", reply.Json.GetProperty("object").GetString());
        Assert.Equal(id, reply.Json.GetProperty("record_id").GetString());
        Assert.Equal(expected, reply.Json.GetProperty("rating").GetInt32());
        Assert.False(reply.Json.GetProperty("corrected").GetBoolean());
        // No flush, no wait: the 200 came after the feedback was committed.
        var stored = Assert.Single(await store.ListFeedbackAsync(RequestTenant.Default, id));
        Assert.Equal(expected, stored.Rating);
        Assert.Equal(reply.Id, stored.Id);
    }

    [Fact]
    public async Task Corrections_as_text_or_messages_and_comments_are_stored()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        var id = (await Api.StreamAsync(server, "/v1/chat/completions", Api.Chat("Once", maxTokens: 3, stream: true))).Id!;
        var text = await Api.PostAsync(server, "/v1/feedback", new { id, correction = "Once upon a time, a cat sat.", comment = "too short" });
        Assert.Equal(HttpStatusCode.OK, text.Status);
        Assert.True(text.Json.GetProperty("corrected").GetBoolean());
        var messages = await Api.PostAsync(server, "/v1/feedback", new
        {
            id,
            rating = "down",
            correction = new object[] { new { role = "assistant", content = "A better answer." } },
        });
        Assert.Equal(HttpStatusCode.OK, messages.Status);
        var comment = await Api.PostAsync(server, "/v1/feedback", new { id, comment = "just a note" });
        Assert.Equal(HttpStatusCode.OK, comment.Status);
        var stored = await store.ListFeedbackAsync(RequestTenant.Default, id);
        Assert.Equal(3, stored.Count);
        Assert.Equal("Once upon a time, a cat sat.", stored[0].Correction!.Text);
        Assert.Equal("too short", stored[0].Comment);
        Assert.Contains("A better answer.", stored[1].Correction!.MessagesJson);
        Assert.Equal(1, stored[1].Rating);
        Assert.Null(stored[2].Correction);
        Assert.Equal("just a note", stored[2].Comment);
        var exchange = Assert.Single(await store.QueryExchangesAsync(RequestTenant.Default));
        Assert.True(exchange.IsCorrected);
        Assert.Equal(1, exchange.Rating);
    }

    [Fact]
    public async Task Corrections_and_comments_are_redacted_before_storage()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        var id = (await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once", maxTokens: 3))).Id!;
        var reply = await Api.PostAsync(server, "/v1/feedback", new
        {
            id,
            correction = "请联系 zhang.san@example.com 或 13812345678。",
            comment = "my id is 11010519491231002X",
        });
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var stored = Assert.Single(await store.ListFeedbackAsync(RequestTenant.Default, id));
        Assert.Equal("请联系 [EMAIL] 或 [PHONE]。", stored.Correction!.Text);
        Assert.Equal("my id is [ID]", stored.Comment);
    }

    [Fact]
    public async Task Unknown_id_gets_404()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        var reply = await Api.PostAsync(server, "/v1/feedback", new { id = "chatcmpl-0123456789abcdef0123456789abcdef", rating = "up" });
        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        var error = reply.Json.GetProperty("error");
        Assert.Equal("not_found", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("id", error.GetProperty("param").GetString());
        Assert.Contains("chatcmpl-0123456789abcdef0123456789abcdef", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("{\"id\": ", null, "not valid JSON")]
    [InlineData("[1, 2]", null, "must be a JSON object")]
    [InlineData("{\"rating\": \"up\"}", "id", "'id' is required")]
    [InlineData("{\"id\": 42, \"rating\": \"up\"}", "id", "'id' must be a string")]
    [InlineData("{\"id\": \"\", \"rating\": \"up\"}", "id", "printable ASCII")]
    [InlineData("{\"id\": \"ID\"}", null, "at least one of")]
    [InlineData("{\"id\": \"ID\", \"rating\": 6}", "rating", "\"up\", \"down\" or an integer from 1 to 5")]
    [InlineData("{\"id\": \"ID\", \"rating\": 0}", "rating", "from 1 to 5")]
    [InlineData("{\"id\": \"ID\", \"rating\": 2.5}", "rating", "from 1 to 5")]
    [InlineData("{\"id\": \"ID\", \"rating\": \"great\"}", "rating", "from 1 to 5")]
    [InlineData("{\"id\": \"ID\", \"rating\": true}", "rating", "from 1 to 5")]
    [InlineData("{\"id\": \"ID\", \"correction\": 7}", "correction", "text, or an array of chat messages")]
    [InlineData("{\"id\": \"ID\", \"correction\": \"\"}", "correction", "must not be empty")]
    [InlineData("{\"id\": \"ID\", \"correction\": []}", "correction", "not a valid messages array")]
    [InlineData("{\"id\": \"ID\", \"correction\": [{\"content\": \"x\"}]}", "correction", "not a valid messages array")]
    [InlineData("{\"id\": \"ID\", \"comment\": 5}", "comment", "'comment' must be a string")]
    public async Task Malformed_bodies_get_400_naming_the_field(string body, string? param, string message)
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        var id = (await Api.PostAsync(server, "/v1/completions", Api.Completion("Once", maxTokens: 2))).Id!;
        var reply = await Api.PostAsync(server, "/v1/feedback", body.Replace("\"ID\"", $"\"{id}\""));
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        var error = reply.Json.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Empty(await store.ListFeedbackAsync(RequestTenant.Default, id));
    }

    [Fact]
    public async Task Without_a_store_feedback_and_datasets_get_404_saying_why()
    {
        await using var server = await TestServer.StartAsync();
        foreach (var reply in new[]
        {
            await Api.PostAsync(server, "/v1/feedback", new { id = "chatcmpl-x", rating = "up" }),
            await Api.GetAsync(server, "/v1/datasets"),
            await Api.GetAsync(server, "/v1/datasets/x"),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, reply.Status);
            Assert.Contains("--data", reply.Json.GetProperty("error").GetProperty("message").GetString());
        }
    }
}
