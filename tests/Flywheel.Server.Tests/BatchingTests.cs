using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace Flywheel.Server.Tests;

/// <summary>Concurrent clients of a server with --parallel 4 are batched and get what they get one at a time.</summary>
public class BatchingTests
{
    [Fact]
    public async Task Concurrent_streaming_clients_get_the_text_they_get_alone()
    {
        await using var server = await TestServer.StartAsync(o => o with { Parallel = 4 });
        var client = new ChatClient("stories260K", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });
        string[] prompts = ["Once upon a time", "The little dog", "Lily and Tom", "One day", "The sun", "Mom said"];
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 40 };
        var alone = new List<string>();
        foreach (var p in prompts) alone.Add((await client.CompleteChatAsync([new UserChatMessage(p)], options)).Value.Content[0].Text);
        var together = await Task.WhenAll(prompts.Select(p => Task.Run(async () =>
        {
            var text = new System.Text.StringBuilder();
            await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage(p)], options))
            {
                foreach (var part in update.ContentUpdate) text.Append(part.Text);
            }
            return text.ToString();
        })));
        Assert.Equal(alone, together);
        server.Models.Find(null, out var engine);
        Assert.Equal(0, engine!.CachedTokens);
    }
}
