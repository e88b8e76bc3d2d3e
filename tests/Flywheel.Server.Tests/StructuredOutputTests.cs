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
    public async Task Json_object_output_is_an_object_or_a_valid_start_of_one_when_cut_by_max_tokens()
    {
        // An unbounded object on a model that never learnt JSON rarely closes within the limit (its keys and values
        // go on like its stories); then finish_reason is "length" and the text must still be a valid beginning.
        await using var server = await TestServer.StartAsync(o => o with { ContextLength = 512 });
        var client = Client(server);
        for (var seed = 1; seed <= 6; seed++)
        {
            var options = Options(ChatResponseFormat.CreateJsonObjectFormat(), seed);
            options.MaxOutputTokenCount = 60;
            var completion = (await client.CompleteChatAsync([new UserChatMessage("Once upon a time")], options)).Value;
            var text = completion.Content[0].Text;
            Assert.StartsWith("{", text.TrimStart());
            if (completion.FinishReason == ChatFinishReason.Stop)
            {
                Assert.IsType<JsonObject>(JsonNode.Parse(text));
                continue;
            }
            Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
            // A reader told more may follow throws on any invalid token and stops quietly at an unfinished one.
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text), isFinalBlock: false, state: default);
            while (reader.Read())
            {
            }
        }
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
