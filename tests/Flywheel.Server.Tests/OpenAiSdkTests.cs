using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace Flywheel.Server.Tests;

/// <summary>The official OpenAI .NET SDK, unchanged, against a Flywheel server on 127.0.0.1.</summary>
public class OpenAiSdkTests
{
    /// <summary>llama.cpp's greedy continuation of "Once upon a time" on stories260K (shared model README).</summary>
    private const string LlamaCppContinuation = ", there was a little girl named Lily. She loved to play outside in the park.";

    private static ChatClient Client(TestServer server, string key = "unused") =>
        new("stories260K", new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });

    [Fact]
    public async Task Lists_models()
    {
        await using var server = await TestServer.StartAsync();
        var client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });
        var models = await client.GetOpenAIModelClient().GetModelsAsync();
        Assert.Equal(["stories260K"], models.Value.Select(m => m.Id));
    }

    [Fact]
    public async Task Chat_completion_is_greedy_llama_cpp_text_with_usage()
    {
        await using var server = await TestServer.StartAsync();
        var result = await Client(server).CompleteChatAsync(
            [new UserChatMessage("Once upon a time")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 32 });
        var completion = result.Value;
        Assert.StartsWith(LlamaCppContinuation, completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(32, completion.Usage.OutputTokenCount);
        Assert.Equal(5, completion.Usage.InputTokenCount);
    }

    [Fact]
    public async Task Streamed_and_unstreamed_results_agree()
    {
        await using var server = await TestServer.StartAsync();
        var client = Client(server);
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 30 };
        var whole = (await client.CompleteChatAsync([new UserChatMessage("The little dog")], options)).Value.Content[0].Text;
        var streamed = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("The little dog")], options))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal(whole, streamed.ToString());
        Assert.Equal(ChatFinishReason.Length, finish);
    }

    [Fact]
    public async Task Same_seed_gives_the_same_sampled_text()
    {
        await using var server = await TestServer.StartAsync();
        var client = Client(server);
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK; the wire field is stable.
        var options = new ChatCompletionOptions { Temperature = 1, MaxOutputTokenCount = 20, Seed = 42 };
#pragma warning restore OPENAI001
        var a = (await client.CompleteChatAsync([new UserChatMessage("Lily")], options)).Value.Content[0].Text;
        var b = (await client.CompleteChatAsync([new UserChatMessage("Lily")], options)).Value.Content[0].Text;
        Assert.Equal(a, b);
    }

    [Fact]
    public async Task Stop_strings_end_the_text_before_the_match()
    {
        await using var server = await TestServer.StartAsync();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 40 };
        options.StopSequences.Add("Lily");
        var completion = (await Client(server).CompleteChatAsync([new UserChatMessage("Once upon a time")], options)).Value;
        Assert.Equal(", there was a little girl named ", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public async Task Wrong_api_key_is_refused_with_401()
    {
        await using var server = await TestServer.StartAsync(o => o with { ApiKeys = new HashSet<string> { "secret" } });
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Client(server, "wrong").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        var ok = await Client(server, "secret").CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 });
        Assert.NotNull(ok.Value.Content);
    }
}
