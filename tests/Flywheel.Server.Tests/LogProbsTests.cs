using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace Flywheel.Server.Tests;

/// <summary><c>logprobs</c> and <c>top_logprobs</c> in OpenAI's shape, streamed and not, chat and text completions.</summary>
public class LogProbsTests
{
    private static ChatClient Client(TestServer server) =>
        new("stories260K", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });

    [Fact]
    public async Task Chat_reports_top_logprobs_best_first_with_the_greedy_choice_on_top()
    {
        await using var server = await TestServer.StartAsync();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12, IncludeLogProbabilities = true, TopLogProbabilityCount = 5 };
        var completion = (await Client(server).CompleteChatAsync([new UserChatMessage("Once upon a time")], options)).Value;
        var tokens = completion.ContentTokenLogProbabilities;
        Assert.Equal(12, tokens.Count);
        Assert.Equal(completion.Content[0].Text, string.Concat(tokens.Select(t => t.Token)));
        foreach (var t in tokens)
        {
            Assert.Equal(5, t.TopLogProbabilities.Count);
            for (var i = 1; i < 5; i++) Assert.True(t.TopLogProbabilities[i - 1].LogProbability >= t.TopLogProbabilities[i].LogProbability);
            // Greedy: the chosen token is the most likely one.
            Assert.Equal(t.TopLogProbabilities[0].Token, t.Token);
            Assert.Equal(t.TopLogProbabilities[0].LogProbability, t.LogProbability);
            Assert.True(t.LogProbability <= 0);
            Assert.True(t.TopLogProbabilities.Sum(a => Math.Exp(a.LogProbability)) <= 1.0001);
        }
    }

    [Fact]
    public async Task Streamed_top_logprobs_equal_the_unstreamed_ones()
    {
        await using var server = await TestServer.StartAsync();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 10, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 };
        var client = Client(server);
        var whole = (await client.CompleteChatAsync([new UserChatMessage("The little dog")], options)).Value.ContentTokenLogProbabilities;
        var streamed = new List<ChatTokenLogProbabilityDetails>();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("The little dog")], options))
        {
            streamed.AddRange(update.ContentTokenLogProbabilities);
        }
        Assert.Equal(whole.Select(t => (t.Token, t.LogProbability)), streamed.Select(t => (t.Token, t.LogProbability)));
        Assert.Equal(
            whole.SelectMany(t => t.TopLogProbabilities.Select(a => (a.Token, a.LogProbability))),
            streamed.SelectMany(t => t.TopLogProbabilities.Select(a => (a.Token, a.LogProbability))));
    }

    [Fact]
    public async Task Text_completions_report_logprobs_in_the_legacy_shape()
    {
        await using var server = await TestServer.StartAsync();
        var body = new JsonObject { ["prompt"] = "Once upon a time", ["max_tokens"] = 8, ["temperature"] = 0, ["logprobs"] = 3 };
        var (status, json) = await Wire.PostAsync(server, "/v1/completions", body);
        Assert.Equal(HttpStatusCode.OK, status);
        var choice = json["choices"]![0]!;
        var lp = choice["logprobs"]!;
        var tokens = lp["tokens"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        Assert.Equal(8, tokens.Count);
        Assert.Equal(choice["text"]!.GetValue<string>(), string.Concat(tokens));
        var offsets = lp["text_offset"]!.AsArray().Select(o => o!.GetValue<int>()).ToList();
        Assert.Equal("Once upon a time".Length, offsets[0]);
        for (var i = 1; i < 8; i++) Assert.Equal(offsets[i - 1] + tokens[i - 1].Length, offsets[i]);
        var top = lp["top_logprobs"]!.AsArray();
        for (var i = 0; i < 8; i++)
        {
            var alternatives = top[i]!.AsObject();
            Assert.InRange(alternatives.Count, 1, 3);
            // Greedy: the chosen token's log-probability is the best of the alternatives.
            Assert.Equal(lp["token_logprobs"]![i]!.GetValue<float>(), alternatives.Max(a => a.Value!.GetValue<float>()));
        }

        var events = await Wire.StreamAsync(server, "/v1/completions", (JsonObject)body.DeepClone());
        var streamedTokens = events.SelectMany(e => e["choices"]!.AsArray())
            .Where(c => c!["logprobs"] is not null)
            .SelectMany(c => c!["logprobs"]!["tokens"]!.AsArray().Select(t => t!.GetValue<string>()))
            .ToList();
        Assert.Equal(tokens, streamedTokens);
    }

    [Theory]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"logprobs\": true, \"top_logprobs\": 21}", "'top_logprobs' must be between")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_logprobs\": 2}", "requires 'logprobs'")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"logprobs\": 3}", "'logprobs' must be true or false")]
    public async Task Bad_logprobs_fields_get_400(string body, string expected)
    {
        await using var server = await TestServer.StartAsync();
        var (status, json) = await Wire.PostAsync(server, "/v1/chat/completions", JsonNode.Parse(body)!);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expected, json["error"]!["message"]!.GetValue<string>());
    }
}
