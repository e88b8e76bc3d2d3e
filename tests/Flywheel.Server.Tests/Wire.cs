using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Flywheel.Server.Tests;

/// <summary>Raw JSON requests for the fields and shapes the OpenAI SDK does not expose.</summary>
internal static class Wire
{
    public static async Task<(HttpStatusCode Status, JsonNode Json)> PostAsync(TestServer server, string path, JsonNode body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await server.Http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!);
    }

    /// <summary>Posts a streaming request and returns the data of every server-sent event before [DONE].</summary>
    public static async Task<List<JsonNode>> StreamAsync(TestServer server, string path, JsonNode body)
    {
        body["stream"] = true;
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await server.Http.PostAsync(path, content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = new List<JsonNode>();
        var done = false;
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var data = line["data: ".Length..].TrimEnd('\r');
            if (data == "[DONE]")
            {
                done = true;
                continue;
            }
            Assert.False(done, "an event after [DONE]");
            events.Add(JsonNode.Parse(data)!);
        }
        Assert.True(done, "the stream did not end with [DONE]");
        return events;
    }
}
