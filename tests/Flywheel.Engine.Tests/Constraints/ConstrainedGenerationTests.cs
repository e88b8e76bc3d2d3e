using System.Text.Json;
using System.Text.Json.Nodes;
using Flywheel.Engine.Constraints;
using Flywheel.Engine.Sampling;
using Flywheel.Testing;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Constraints;

/// <summary>
/// Property tests: real models (stories260K, and the random-weight tiny Qwen2 with a 50k GPT-2 vocabulary) sample at
/// temperature 1 with random seeds under a schema, through the continuous-batching scheduler, and every output
/// must parse and validate (checked by <see cref="SchemaValidator"/>, which does not share code with the matcher).
/// </summary>
public class ConstrainedGenerationTests(ITestOutputHelper log)
{
    private static string Model(string folder, string file) => TestPaths.SharedFile("models", folder, file);

    public static readonly string[] Schemas =
    [
        """{"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}, "age": {"type": "integer"}, "happy": {"type": "boolean"}, "pet": {"enum": ["cat", "dog", null]}, "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 3}}, "required": ["name", "age", "happy"], "additionalProperties": false}""",
        """{"type": "array", "items": {"type": ["number", "null"]}, "minItems": 1, "maxItems": 4}""",
        """{"anyOf": [{"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number"}}, "required": ["kind", "r"], "additionalProperties": false}, {"type": "object", "properties": {"kind": {"const": "square"}, "side": {"type": "integer"}}, "required": ["kind", "side"], "additionalProperties": false}]}""",
        """{"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}, "required": ["v", "next"], "additionalProperties": false}}, "$ref": "#/$defs/node"}""",
        """{"type": "string", "minLength": 2, "maxLength": 6}""",
        """{"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "array", "items": {"type": "boolean"}, "maxItems": 2}}, "required": ["b"], "additionalProperties": false}}, "required": ["a"], "additionalProperties": false}""",
    ];

    [Fact]
    public async Task Stories260K_random_seeds_always_give_valid_json_for_every_schema()
    {
        var (valid, total) = await GenerateAsync(Model("stories260K", "stories260K.gguf"), seedsPerSchema: 20, maxTokens: 300);
        log.WriteLine($"stories260K: {valid}/{total} constrained generations parsed and validated");
        Assert.Equal(total, valid);
    }

    [Fact]
    public async Task Tiny_qwen2_with_a_50k_vocabulary_gives_valid_json()
    {
        var (valid, total) = await GenerateAsync(Model("tiny", "tiny-qwen2-q8_0.gguf"), seedsPerSchema: 3, maxTokens: 300);
        log.WriteLine($"tiny-qwen2: {valid}/{total} constrained generations parsed and validated");
        Assert.Equal(total, valid);
    }

    [Fact]
    public async Task Json_object_mode_gives_objects_and_greedy_is_reproducible()
    {
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", Model("stories260K", "stories260K.gguf")), parallel: 4, contextLength: 512);
        var results = new List<string>();
        for (var seed = 0UL; seed < 8; seed++)
        {
            var result = await engine.GenerateToEndAsync(Request(engine, JsonSchema.AnyObject, new SamplingOptions { Temperature = 1, Seed = seed }, 200));
            // An unbounded object closes before the limit, however the model rambles.
            Assert.NotEqual(FinishReason.Length, result.Finish);
            Assert.IsType<JsonObject>(JsonNode.Parse(result.Text));
            results.Add(result.Text);
        }
        var greedy1 = await engine.GenerateToEndAsync(Request(engine, JsonSchema.AnyObject, SamplingOptions.Greedy, 60));
        var greedy2 = await engine.GenerateToEndAsync(Request(engine, JsonSchema.AnyObject, SamplingOptions.Greedy, 60));
        Assert.Equal(greedy1.Text, greedy2.Text);
        Assert.StartsWith("{", greedy1.Text.TrimStart());
    }

    [Theory]
    [InlineData("stories260K", "stories260K.gguf")]
    [InlineData("tiny", "tiny-qwen2-q8_0.gguf")]
    [InlineData("tiny", "tiny-llama-f16.gguf")]
    public void The_trie_mask_equals_asking_every_token(string folder, string file)
    {
        using var model = LoadedModel.Load("m", Model(folder, file));
        var trie = VocabularyTrie.For(model.Tokenizer);
        var stops = model.Tokenizer.EndOfGenerationIds;
        var schema = JsonSchema.Compile(JsonNode.Parse(Schemas[0]));
        // States: the start, inside a key, after a colon, inside a string, after a number, and complete.
        foreach (var prefix in new[] { "", "{\"na", "{\"name\":", "{\"name\": \"Li", "{\"name\": \"Li\", \"age\": 4", "{\"name\":\"\",\"age\":1,\"happy\":true}" })
        {
            var matcher = new JsonMatcher(schema);
            Assert.True(matcher.TryAdvance(prefix));
            var constraint = new JsonTokenConstraint(matcher, trie, stops);
            var mask = new ulong[(trie.VocabSize + 63) / 64];
            constraint.FillMask(mask);
            var allowed = 0;
            for (var id = 0; id < trie.VocabSize; id++)
            {
                var bit = (mask[id >> 6] >> (id & 63) & 1) != 0;
                Assert.True(bit == constraint.Allows(id), $"after '{prefix}': token {id} mask {bit}");
                if (bit) allowed++;
            }
            Assert.True(allowed > 0, $"nothing allowed after '{prefix}'");
        }
    }

    private async Task<(int Valid, int Total)> GenerateAsync(string path, int seedsPerSchema, int maxTokens)
    {
        using var engine = new InferenceEngine(LoadedModel.Load("m", path), parallel: 4, queueLimit: 1024, contextLength: 512);
        var jobs = new List<Task<(string Schema, ulong Seed, GenerationResult Result)>>();
        var rng = new Random(1234);
        foreach (var text in Schemas)
        {
            var schema = JsonSchema.Compile(JsonNode.Parse(text));
            for (var i = 0; i < seedsPerSchema; i++)
            {
                var seed = (ulong)rng.NextInt64();
                var request = Request(engine, schema, new SamplingOptions { Temperature = 1, Seed = seed }, maxTokens);
                jobs.Add(Task.Run(async () => (text, seed, await engine.GenerateToEndAsync(request))));
            }
        }
        var valid = 0;
        foreach (var (schemaText, seed, result) in await Task.WhenAll(jobs))
        {
            Assert.True(result.Finish is FinishReason.ConstraintComplete or FinishReason.StopToken,
                $"seed {seed}: ended by {result.Finish} after {result.TokenIds.Count} tokens: {result.Text}");
            JsonNode? parsed;
            try
            {
                parsed = JsonNode.Parse(result.Text);
            }
            catch (JsonException e)
            {
                Assert.Fail($"seed {seed}: not JSON ({e.Message}): {result.Text}");
                throw;
            }
            Assert.True(SchemaValidator.IsValid(parsed, JsonNode.Parse(schemaText)!), $"seed {seed}: does not validate: {result.Text}");
            valid++;
        }
        log.WriteLine($"examples: {string.Join(" | ", (await Task.WhenAll(jobs)).Take(3).Select(j => j.Result.Text))}");
        return (valid, jobs.Count);
    }

    private static GenerationRequest Request(InferenceEngine engine, JsonSchema schema, SamplingOptions sampling, int maxTokens)
    {
        var tokenizer = engine.Model.Tokenizer;
        var prompt = engine.Model.TokenizeRaw("Lily wrote down her data as JSON:");
        var stopping = new GenerationOptions { MaxTokens = maxTokens, StopTokenIds = tokenizer.EndOfGenerationIds };
        return new GenerationRequest(prompt, sampling, stopping)
        {
            Constraint = new JsonTokenConstraint(new JsonMatcher(schema), VocabularyTrie.For(tokenizer), tokenizer.EndOfGenerationIds, maxTokens),
        };
    }
}
