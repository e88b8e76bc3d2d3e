using System.Text.Json;
using System.Text.Json.Nodes;
using Flywheel.Formats.Gguf;
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

    private const string WeatherParameters = """
        {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}, "unit": {"enum": ["celsius", "fahrenheit"]}},
         "required": ["city", "unit"], "additionalProperties": false}
        """;

    private static AIFunctionDeclaration Weather() =>
        AIFunctionFactory.CreateDeclaration("get_weather", "Weather in a city", JsonDocument.Parse(WeatherParameters).RootElement);

    private static AIFunctionDeclaration Time() =>
        AIFunctionFactory.CreateDeclaration("get_time", "Time in a zone", JsonDocument.Parse("""{"type": "object", "properties": {"zone": {"type": "string", "maxLength": 6}}, "required": ["zone"], "additionalProperties": false}""").RootElement);

    [Fact]
    public async Task Json_response_format_gives_whole_objects_within_the_limit_streamed_or_not()
    {
        using var engine = Stories();
        IChatClient client = new EngineChatClient(engine);
        for (var seed = 1; seed <= 6; seed++)
        {
            // stories260K never learnt JSON; the object still closes within 2 to 30 tokens.
            var options = new ChatOptions { ResponseFormat = ChatResponseFormat.Json, Temperature = 1, Seed = seed, MaxOutputTokens = 2 + seed * 5 };
            var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], options);
            Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
            Assert.IsType<JsonObject>(JsonNode.Parse(response.Text));
            Assert.InRange(response.Usage!.OutputTokenCount!.Value, 1, options.MaxOutputTokens!.Value);
            var updates = await client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], options).ToListAsync();
            Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
            Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        }
    }

    [Fact]
    public async Task Json_schema_response_format_validates()
    {
        using var engine = Stories();
        IChatClient client = new EngineChatClient(engine);
        var schema = JsonDocument.Parse(WeatherParameters).RootElement;
        for (var seed = 1; seed <= 4; seed++)
        {
            var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "weather"), Temperature = 1, Seed = seed, MaxOutputTokens = 60 };
            var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather?")], options);
            Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
            var value = JsonNode.Parse(response.Text)!.AsObject();
            Assert.Equal(["city", "unit"], value.Select(p => p.Key).Order());
            Assert.Contains(value["unit"]!.GetValue<string>(), new[] { "celsius", "fahrenheit" });
        }
    }

    [Fact]
    public async Task Options_that_cannot_be_honoured_are_refused()
    {
        using var engine = Stories();
        IChatClient client = new EngineChatClient(engine);
        ChatMessage[] hi = [new(ChatRole.User, "Hi")];
        var tooSmall = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(hi, new ChatOptions { ResponseFormat = ChatResponseFormat.Json, MaxOutputTokens = 1 }));
        Assert.Contains("shortest output", tooSmall.Message);
        var pattern = JsonDocument.Parse("""{"type": "string", "pattern": "^a$"}""").RootElement;
        var unsupported = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(hi, new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(pattern) }));
        Assert.Contains("'pattern'", unsupported.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(hi, new ChatOptions { ResponseFormat = ChatResponseFormat.Json, Tools = [Weather()], ToolMode = ChatToolMode.RequireAny }));
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(hi, new ChatOptions { Tools = [Weather()], ToolMode = ChatToolMode.RequireSpecific("nope") }));
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(hi, new ChatOptions { ToolMode = ChatToolMode.RequireAny }));
    }

    /// <summary>
    /// stories260K with a real template (Hermes calls for Qwen 2.5, JSON calls for Llama 3.2) never calls tools on its
    /// own; a required tool mode makes constrained decoding write the call, and the client reads it back as a
    /// <see cref="FunctionCallContent"/>, which then goes back through the template with its result.
    /// </summary>
    [Theory]
    [InlineData("Qwen-Qwen2.5-7B-Instruct.jinja")]
    [InlineData("meta-llama-Llama-3.2-3B-Instruct.jinja")]
    public async Task Required_tool_mode_returns_a_function_call_that_goes_back_through_the_template(string template)
    {
        var path = Path.Combine(TestPaths.TempDir(), "templated.gguf");
        using (var source = GgufFile.Open(TestPaths.SharedFile("models", "stories260K", "stories260K.gguf")))
        {
            var writer = new GgufWriter().CopyMetadata(source).Set(GgufKeys.ChatTemplate, File.ReadAllText(TestPaths.SharedFile("testdata", "templates", template)));
            foreach (var t in source.Tensors) writer.AddTensor(t.Name, t.Type, t.Shape, source.GetTensor(t.Name).Bytes.ToArray());
            writer.Save(path);
        }
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", path), parallel: 2, contextLength: 4096);
        IChatClient client = new EngineChatClient(engine);
        List<ChatMessage> messages = [new(ChatRole.User, "What is the weather in Paris?")];
        foreach (var mode in new[] { ChatToolMode.RequireAny, ChatToolMode.RequireSpecific("get_time") })
        {
            var options = new ChatOptions { Tools = [Weather(), Time()], ToolMode = mode, Temperature = 1, Seed = 3, MaxOutputTokens = 120 };
            var response = await client.GetResponseAsync(messages, options);
            Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
            var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
            Assert.StartsWith("call_", call.CallId);
            if (mode is RequiredChatToolMode { RequiredFunctionName: { } name }) Assert.Equal(name, call.Name);
            var keys = call.Arguments!.Keys.Order().ToList();
            Assert.Equal(call.Name == "get_weather" ? ["city", "unit"] : ["zone"], keys);
            Assert.Equal("", response.Text);

            // Streamed: the same call, as one FunctionCallContent.
            var updates = await client.GetStreamingResponseAsync(messages, options).ToListAsync();
            var streamed = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
            Assert.Equal(call.Name, streamed.Name);
            Assert.Equal(JsonSerializer.Serialize(call.Arguments), JsonSerializer.Serialize(streamed.Arguments));
            Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);

            // The call and its result render through the template for the next turn.
            var next = new List<ChatMessage>(messages)
            {
                new(ChatRole.Assistant, [call]),
                new(ChatRole.Tool, [new FunctionResultContent(call.CallId, "sunny, 21 degrees")]),
            };
            var request = ((EngineChatClient)client).BuildRequest(next, new ChatOptions { Tools = [Weather(), Time()] });
            var prompt = engine.Model.Tokenizer.Decode(request.PromptIds);
            Assert.Contains("sunny, 21 degrees", prompt);
            Assert.Contains(call.Name, prompt[prompt.IndexOf("What is the weather", StringComparison.Ordinal)..]);
        }
    }
}
