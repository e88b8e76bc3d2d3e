using System.Text.Json;

namespace Flywheel.Server.Tests.Node;

/// <summary>The official <c>openai</c> npm client (pinned in Node/package-lock.json), unchanged, against a Flywheel server.</summary>
public class OpenAiNodeClientTests
{
    [NodeFact]
    public async Task Chat_streaming_completions_embeddings_and_models_work_from_the_npm_client()
    {
        var dir = NodeTools.Install();
        File.Copy(Path.Combine(NodeTools.SourceDir, "openai-client-check.mjs"), Path.Combine(dir, "openai-client-check.mjs"), overwrite: true);
        await using var server = await TestServer.StartAsync();
        var baseUrl = new Uri(server.BaseAddress, "v1").ToString();
        // Run off the test thread: the server in this process must keep answering while we wait for node.
        var run = await Task.Run(() => NodeTools.Run(dir, TimeSpan.FromSeconds(90), "node", "openai-client-check.mjs", baseUrl, "stories260K"));
        Assert.True(run.ExitCode == 0, $"node exited with {run.ExitCode}: {run.Stderr}");
        var json = JsonDocument.Parse(run.Stdout).RootElement;

        Assert.Equal(["stories260K"], json.GetProperty("models").EnumerateArray().Select(m => m.GetString()));

        var chat = json.GetProperty("chat");
        Assert.StartsWith("chatcmpl-", chat.GetProperty("id").GetString());
        Assert.StartsWith(", there was a little girl named Lily.", chat.GetProperty("text").GetString()); // greedy, as llama.cpp
        Assert.Equal("length", chat.GetProperty("finishReason").GetString());
        Assert.Equal(5, chat.GetProperty("promptTokens").GetInt32());
        Assert.Equal(24, chat.GetProperty("completionTokens").GetInt32());

        var stream = json.GetProperty("stream");
        Assert.Equal(chat.GetProperty("text").GetString(), stream.GetProperty("text").GetString());
        Assert.Equal("length", stream.GetProperty("finishReason").GetString());
        Assert.Equal(24, stream.GetProperty("completionTokens").GetInt32());
        Assert.Equal(1, stream.GetProperty("ids").GetInt32());
        Assert.True(stream.GetProperty("chunks").GetInt32() > 3);

        var completion = json.GetProperty("completion");
        Assert.False(string.IsNullOrEmpty(completion.GetProperty("text").GetString()));
        Assert.Equal("length", completion.GetProperty("finishReason").GetString());

        var embeddings = json.GetProperty("embeddings").EnumerateArray().ToList();
        Assert.Equal(2, embeddings.Count);
        for (var i = 0; i < embeddings.Count; i++)
        {
            Assert.Equal(i, embeddings[i].GetProperty("index").GetInt32());
            Assert.Equal(64, embeddings[i].GetProperty("length").GetInt32()); // stories260K: n_embd = 64
            Assert.Equal(1.0, embeddings[i].GetProperty("norm").GetDouble(), 4);
        }

        var unknown = json.GetProperty("unknownModel");
        Assert.Equal(404, unknown.GetProperty("status").GetInt32());
        Assert.Equal("model_not_found", unknown.GetProperty("code").GetString());
        Assert.True(unknown.GetProperty("notFoundError").GetBoolean());
    }
}
