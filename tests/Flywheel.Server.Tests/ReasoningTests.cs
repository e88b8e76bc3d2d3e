using System.Net;
using System.Text.Json.Nodes;

namespace Flywheel.Server.Tests;

/// <summary>Think blocks go to <c>reasoning_content</c>, streamed and not, on a real model whose template opens one.</summary>
public class ReasoningTests
{
    /// <summary>DeepSeek-R1 style: the generation prompt ends inside an open think block.</summary>
    private const string ThinkingTemplate =
        "{% for m in messages %}{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<think>\n{% endif %}";

    [Fact]
    public async Task Output_inside_a_think_block_opened_by_the_prompt_is_reasoning_and_streaming_agrees()
    {
        using var model = new TemplatedModel(ThinkingTemplate);
        await using var server = await TestServer.StartAsync(o => o with { Models = [new("stories260K", model.Path)] });
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Once upon a time" }),
            ["max_tokens"] = 24,
            ["temperature"] = 0,
        };
        var (status, json) = await Wire.PostAsync(server, "/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.OK, status);
        var message = json["choices"]![0]!["message"]!;
        var reasoning = message["reasoning_content"]!.GetValue<string>();
        Assert.True(reasoning.Length > 10, reasoning);
        Assert.Equal("", message["content"]!.GetValue<string>());
        Assert.Equal("length", json["choices"]![0]!["finish_reason"]!.GetValue<string>());

        var events = await Wire.StreamAsync(server, "/v1/chat/completions", (JsonObject)body.DeepClone());
        var deltas = events.SelectMany(e => e["choices"]!.AsArray()).Select(c => c!["delta"]!).ToList();
        Assert.Equal(reasoning, string.Concat(deltas.Select(d => d["reasoning_content"]?.GetValue<string>())));
        Assert.Equal("", string.Concat(deltas.Select(d => d["content"]?.GetValue<string>())));
    }

    [Fact]
    public async Task Reasoning_is_captured_with_the_record_streamed_or_not()
    {
        using var model = new TemplatedModel(ThinkingTemplate);
        await using var store = await Capture.TestStores.OpenAsync();
        await using var server = await Capture.TestStores.ServeAsync(store, o => o with { Models = [new("stories260K", model.Path)] });
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Once upon a time" }),
            ["max_tokens"] = 24,
            ["temperature"] = 0,
        };
        var (_, json) = await Wire.PostAsync(server, "/v1/chat/completions", body);
        var reasoning = json["choices"]![0]!["message"]!["reasoning_content"]!.GetValue<string>();
        var record = await store.GetTrafficAsync(Auth.RequestTenant.Default, json["id"]!.GetValue<string>());
        Assert.Equal(reasoning, record!.ReasoningText);
        Assert.Equal("", record.OutputText);

        var streamedBody = (JsonObject)body.DeepClone();
        streamedBody["stream"] = true;
        var events = await Wire.StreamAsync(server, "/v1/chat/completions", streamedBody);
        var streamed = await store.GetTrafficAsync(Auth.RequestTenant.Default, events[0]["id"]!.GetValue<string>());
        Assert.Equal(reasoning, streamed!.ReasoningText);
        Assert.Equal("", streamed.OutputText);

        // Without a think block there is no reasoning to keep.
        var (_, plain) = await Wire.PostAsync(server, "/v1/completions", new JsonObject { ["prompt"] = "Once upon a time", ["max_tokens"] = 4 });
        Assert.Null((await store.GetTrafficAsync(Auth.RequestTenant.Default, plain["id"]!.GetValue<string>()))!.ReasoningText);
    }

    [Fact]
    public async Task Without_a_think_block_everything_is_content()
    {
        await using var server = await TestServer.StartAsync();
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Once upon a time" }),
            ["max_tokens"] = 16,
            ["temperature"] = 0,
        };
        var (_, json) = await Wire.PostAsync(server, "/v1/chat/completions", body);
        var message = json["choices"]![0]!["message"]!;
        Assert.Null(message["reasoning_content"]);
        Assert.StartsWith(", there was a little girl", message["content"]!.GetValue<string>());
    }
}
