using System.ClientModel;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace Flywheel.Server.Tests;

/// <summary><c>response_format</c> json_schema and json_object through the OpenAI .NET SDK: enforced, so always valid.</summary>
public class StructuredOutputTests
{
    private const string PersonSchema = """
        {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}, "age": {"type": "integer"},
         "pets": {"type": "array", "items": {"enum": ["cat", "dog"]}, "maxItems": 2}},
         "required": ["name", "age", "pets"], "additionalProperties": false}
        """;

    private static ChatClient Client(TestServer server) =>
        new("stories260K", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });

#pragma warning disable OPENAI001 // Seed is experimental in the SDK; the wire field is stable.
    private static ChatCompletionOptions Options(ChatResponseFormat format, long seed) =>
        new() { ResponseFormat = format, Temperature = 1, Seed = seed, MaxOutputTokenCount = 200 };
#pragma warning restore OPENAI001

    [Fact]
    public async Task Json_schema_output_always_parses_and_validates()
    {
        await using var server = await TestServer.StartAsync(o => o with { ContextLength = 512 });
        var client = Client(server);
        var format = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema), jsonSchemaIsStrict: true);
        for (var seed = 1; seed <= 12; seed++)
        {
            var completion = (await client.CompleteChatAsync([new UserChatMessage("Describe Lily as JSON.")], Options(format, seed))).Value;
            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            var person = JsonNode.Parse(completion.Content[0].Text)!.AsObject();
            Assert.Equal(["age", "name", "pets"], person.Select(p => p.Key).Order());
            Assert.InRange(person["name"]!.GetValue<string>().EnumerateRunes().Count(), 0, 10);
            Assert.Equal(JsonValueKind.Number, person["age"]!.GetValueKind());
            Assert.True(long.TryParse(person["age"]!.ToJsonString(), out _), person["age"]!.ToJsonString());
            var pets = person["pets"]!.AsArray();
            Assert.InRange(pets.Count, 0, 2);
            Assert.All(pets, p => Assert.Contains(p!.GetValue<string>(), new[] { "cat", "dog" }));
        }
    }

    [Fact]
    public async Task Streamed_json_schema_output_equals_the_unstreamed_one()
    {
        await using var server = await TestServer.StartAsync(o => o with { ContextLength = 512 });
        var client = Client(server);
        var format = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema));
        var whole = (await client.CompleteChatAsync([new UserChatMessage("Tom")], Options(format, 7))).Value.Content[0].Text;
        var streamed = new System.Text.StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Tom")], Options(format, 7)))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
        }
        Assert.Equal(whole, streamed.ToString());
        Assert.NotNull(JsonNode.Parse(whole));
    }

    [Fact]
    public async Task Json_object_output_always_closes_within_max_tokens()
    {
        // An unbounded object on a model that never learnt JSON would rarely close by itself (its keys and values go
        // on like its stories); as the limit nears only closing tokens remain, so every answer is a whole object.
        await using var server = await TestServer.StartAsync(o => o with { ContextLength = 512 });
        var client = Client(server);
        foreach (var limit in new[] { 2, 3, 8, 30, 60 })
        {
            for (var seed = 1; seed <= 3; seed++)
            {
                var options = Options(ChatResponseFormat.CreateJsonObjectFormat(), seed);
                options.MaxOutputTokenCount = limit;
                var completion = (await client.CompleteChatAsync([new UserChatMessage("Once upon a time")], options)).Value;
                Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
                Assert.IsType<JsonObject>(JsonNode.Parse(completion.Content[0].Text));
                Assert.InRange(completion.Usage.OutputTokenCount, 1, limit);
                var streamed = new System.Text.StringBuilder();
                ChatFinishReason? finish = null;
                await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Once upon a time")], options))
                {
                    foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
                    finish ??= update.FinishReason;
                }
                Assert.Equal(completion.Content[0].Text, streamed.ToString());
                Assert.Equal(ChatFinishReason.Stop, finish);
            }
        }
    }

    [Fact]
    public async Task Json_schema_output_validates_at_the_smallest_max_tokens_that_fits_it()
    {
        await using var server = await TestServer.StartAsync(o => o with { ContextLength = 512 });
        var client = Client(server);
        var format = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(PersonSchema), jsonSchemaIsStrict: true);
        var shortest = """{"name":"","age":0,"pets":[]}""".Length;
        foreach (var limit in new[] { shortest, shortest + 3, shortest + 12 })
        {
            for (var seed = 1; seed <= 3; seed++)
            {
                var options = Options(format, seed);
                options.MaxOutputTokenCount = limit;
                var completion = (await client.CompleteChatAsync([new UserChatMessage("Describe Lily as JSON.")], options)).Value;
                Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
                var person = JsonNode.Parse(completion.Content[0].Text)!.AsObject();
                Assert.Equal(["age", "name", "pets"], person.Select(p => p.Key).Order());
            }
        }
    }

    [Theory]
    [InlineData("""{"type": "json_object"}""", 1)]
    [InlineData("""{"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}""", 10)]
    public async Task Max_tokens_below_the_shortest_valid_output_gets_400(string format, int maxTokens)
    {
        await using var server = await TestServer.StartAsync();
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "x" }),
            ["response_format"] = JsonNode.Parse(format),
            ["max_tokens"] = maxTokens,
        };
        var (status, json) = await Wire.PostAsync(server, "/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("max_tokens", json["error"]!["param"]!.GetValue<string>());
        Assert.Contains("shortest output", json["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_schema_with_no_finite_value_gets_400_naming_response_format()
    {
        await using var server = await TestServer.StartAsync();
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "x" }),
            ["response_format"] = JsonNode.Parse("""{"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]}}}"""),
        };
        var (status, json) = await Wire.PostAsync(server, "/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("response_format", json["error"]!["param"]!.GetValue<string>());
        Assert.Contains("no finite output", json["error"]!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"type": "string", "pattern": "^a+$"}""", "'pattern'")]
    [InlineData("""{"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}}}""", "'format'")]
    [InlineData("""{"oneOf": [{"type": "string"}, {"type": "integer"}]}""", "'oneOf'")]
    [InlineData("""{"type": "array", "minItems": 4, "maxItems": 1}""", "'minItems'")]
    public async Task Schemas_outside_the_enforced_subset_get_400_naming_the_keyword(string schema, string keyword)
    {
        await using var server = await TestServer.StartAsync();
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "x" }),
            ["response_format"] = new JsonObject { ["type"] = "json_schema", ["json_schema"] = new JsonObject { ["name"] = "s", ["schema"] = JsonNode.Parse(schema) } },
        };
        var (status, json) = await Wire.PostAsync(server, "/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(keyword, json["error"]!["message"]!.GetValue<string>());
        Assert.Equal("response_format", json["error"]!["param"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"type": "xml"}""")]
    [InlineData("""{"type": "json_schema"}""")]
    [InlineData("""{"type": "json_schema", "json_schema": {"name": "s", "schema": {}, "strict": "yes"}}""")]
    [InlineData("\"json\"")]
    public async Task Malformed_response_formats_get_400(string format)
    {
        await using var server = await TestServer.StartAsync();
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "x" }),
            ["response_format"] = JsonNode.Parse(format),
        };
        var (status, json) = await Wire.PostAsync(server, "/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("response_format", json["error"]!["param"]!.GetValue<string>());
    }
}
