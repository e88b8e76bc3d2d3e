using Flywheel.Testing;
using Microsoft.Extensions.AI;

namespace Flywheel.Engine.Tests;

public class EngineChatClientTests
{
    private static InferenceEngine Stories() =>
        new(LoadedModel.Load("stories260K", TestPaths.SharedFile("models", "stories260K", "stories260K.gguf")), parallel: 1, contextLength: 128);

    [Fact]
    public async Task Greedy_response_is_llama_cpp_text_with_usage()
    {
        using var engine = Stories();
        IChatClient client = new EngineChatClient(engine);
        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Once upon a time")],
            new ChatOptions { Temperature = 0, MaxOutputTokens = 20 });
        Assert.StartsWith(", there was a little girl named Lily.", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(20, response.Usage!.OutputTokenCount);
        Assert.Equal("stories260K", client.GetService<ChatClientMetadata>()!.DefaultModelId);
    }

    [Fact]
    public async Task Streaming_gives_the_same_text()
    {
        using var engine = Stories();
        IChatClient client = new EngineChatClient(engine);
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 25, StopSequences = ["park"] };
        var whole = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Lily and Tom went to the")], options);
        var streamed = string.Concat(await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Lily and Tom went to the")], options)
            .Select(u => u.Text).ToListAsync());
        Assert.Equal(whole.Text, streamed);
    }

    [Fact]
    public async Task Prompt_longer_than_the_context_is_refused()
    {
        using var engine = Stories();
        IChatClient client = new EngineChatClient(engine);
        var longText = string.Concat(Enumerable.Repeat("The little dog ran. ", 100));
        await Assert.ThrowsAsync<ContextLengthExceededException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, longText)]));
    }
}
