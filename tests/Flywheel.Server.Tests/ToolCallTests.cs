using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace Flywheel.Server.Tests;

/// <summary>
/// Tools through the OpenAI .NET SDK. The small test models never call tools on their own, so <c>tool_choice</c>
/// "required" or a named function makes constrained decoding write a call in the template's format, which the
/// server parses back into <c>tool_calls</c>: the whole path, template to parser, runs on a real model.
/// </summary>
public class ToolCallTests
{
    private const string WeatherParameters = """
        {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}, "unit": {"enum": ["celsius", "fahrenheit"]}},
         "required": ["city", "unit"], "additionalProperties": false}
        """;

    private const string TimeParameters = """{"type": "object", "properties": {"zone": {"type": "string", "maxLength": 6}}, "required": ["zone"], "additionalProperties": false}""";

    private static ChatClient Client(TestServer server) =>
        new("stories260K", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });

    private static ChatCompletionOptions Options(ChatToolChoice choice, long seed)
    {
#pragma warning disable OPENAI001
        var options = new ChatCompletionOptions { ToolChoice = choice, Temperature = 1, Seed = seed, MaxOutputTokenCount = 200 };
#pragma warning restore OPENAI001
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Weather in a city", BinaryData.FromString(WeatherParameters)));
        options.Tools.Add(ChatTool.CreateFunctionTool("get_time", "Time in a zone", BinaryData.FromString(TimeParameters)));
        return options;
    }

    private static void AssertValidCall(ChatToolCall call)
    {
        Assert.StartsWith("call_", call.Id);
        var args = JsonNode.Parse(call.FunctionArguments.ToString())!.AsObject();
        if (call.FunctionName == "get_weather")
        {
            Assert.Equal(["city", "unit"], args.Select(a => a.Key).Order());
            Assert.Contains(args["unit"]!.GetValue<string>(), new[] { "celsius", "fahrenheit" });
            Assert.InRange(args["city"]!.GetValue<string>().EnumerateRunes().Count(), 0, 12);
        }
        else
        {
            Assert.Equal("get_time", call.FunctionName);
            Assert.Equal(["zone"], args.Select(a => a.Key));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("meta-llama-Llama-3.2-3B-Instruct.jinja")]
    [InlineData("Qwen-Qwen2.5-7B-Instruct.jinja")]
    public async Task Required_tool_choice_gives_a_valid_call_through_the_template_and_streaming_agrees(string? template)
    {
        // The real templates' tool instructions take ~1500 tokens of stories260K's small vocabulary: a longer context
        // than it was trained for, which only makes its text stranger.
        using var model = template is null ? null : new TemplatedModel(File.ReadAllText(Flywheel.Testing.TestPaths.SharedFile("testdata", "templates", template)));
        await using var server = await TestServer.StartAsync(o => o with { ContextLength = 4096, Models = [new("stories260K", model?.Path ?? TestServer.Stories)] });
        var client = Client(server);
        for (var seed = 1; seed <= 2; seed++)
        {
            List<ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];
            var completion = (await client.CompleteChatAsync(messages, Options(ChatToolChoice.CreateRequiredChoice(), seed))).Value;
            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            var call = Assert.Single(completion.ToolCalls);
            AssertValidCall(call);
            Assert.Empty(completion.Content);

            // Streamed: the same call (ids are fresh per response), in OpenAI's delta shape.
            string? name = null, id = null;
            var arguments = new System.Text.StringBuilder();
            ChatFinishReason? finish = null;
            var content = new System.Text.StringBuilder();
            await foreach (var update in client.CompleteChatStreamingAsync(messages, Options(ChatToolChoice.CreateRequiredChoice(), seed)))
            {
                foreach (var part in update.ContentUpdate) content.Append(part.Text);
                foreach (var delta in update.ToolCallUpdates)
                {
                    Assert.Equal(0, delta.Index);
                    name ??= delta.FunctionName;
                    id ??= delta.ToolCallId;
                    if (delta.FunctionArgumentsUpdate is { } a) arguments.Append(a.ToString());
                }
                finish ??= update.FinishReason;
            }
            Assert.Equal(call.FunctionName, name);
            Assert.StartsWith("call_", id);
            Assert.Equal(call.FunctionArguments.ToString(), arguments.ToString());
            Assert.Equal(ChatFinishReason.ToolCalls, finish);
            Assert.Equal("", content.ToString());

            // The call and its result go back through the template for the next turn.
            messages.Add(new AssistantChatMessage([call]));
            messages.Add(new ToolChatMessage(call.Id, "sunny, 21 degrees"));
            var next = (await client.CompleteChatAsync(messages, new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8 })).Value;
            Assert.Equal(ChatFinishReason.Length, next.FinishReason);
        }
    }

    [Fact]
    public async Task A_named_tool_choice_calls_that_function()
    {
        await using var server = await TestServer.StartAsync(o => o with { ContextLength = 512 });
        for (var seed = 1; seed <= 4; seed++)
        {
            var completion = (await Client(server).CompleteChatAsync([new UserChatMessage("What time is it?")], Options(ChatToolChoice.CreateFunctionChoice("get_time"), seed))).Value;
            var call = Assert.Single(completion.ToolCalls);
            Assert.Equal("get_time", call.FunctionName);
            AssertValidCall(call);
        }
    }

    [Fact]
    public async Task Auto_and_none_leave_a_model_that_does_not_call_tools_answering_in_text()
    {
        await using var server = await TestServer.StartAsync();
        foreach (var choice in new[] { ChatToolChoice.CreateAutoChoice(), ChatToolChoice.CreateNoneChoice() })
        {
            var options = Options(choice, 1);
            options.Temperature = 0;
            options.MaxOutputTokenCount = 16;
            var completion = (await Client(server).CompleteChatAsync([new UserChatMessage("Once upon a time")], options)).Value;
            Assert.Empty(completion.ToolCalls);
            Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
            Assert.StartsWith(", there was a little girl", completion.Content[0].Text);
        }
    }

    [Theory]
    [InlineData("""{"tool_choice": {"type": "function", "function": {"name": "nope"}}}""", "tool_choice")]
    [InlineData("""{"tool_choice": "sometimes"}""", "tool_choice")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": ""}}]}""", "tools[0].function")]
    [InlineData("""{"tools": [{"type": "retrieval"}]}""", "tools[0]")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}}}], "tool_choice": "required"}""", "tools")]
    [InlineData("""{"tools": [], "tool_choice": "required"}""", "tool_choice")]
    public async Task Bad_tool_requests_get_400(string extra, string param)
    {
        await using var server = await TestServer.StartAsync();
        var body = JsonNode.Parse(extra)!.AsObject();
        body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "x" });
        if (!body.ContainsKey("tools"))
        {
            body["tools"] = new JsonArray(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f" } });
        }
        var (status, json) = await Wire.PostAsync(server, "/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, json["error"]!["param"]!.GetValue<string>());
    }
}
