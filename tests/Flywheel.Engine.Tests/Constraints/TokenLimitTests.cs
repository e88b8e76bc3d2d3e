using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flywheel.Engine.Constraints;
using Flywheel.Engine.Sampling;
using Flywheel.Testing;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Constraints;

/// <summary>
/// Constrained JSON always closes within the token limit: the matcher counts the bytes that complete the document,
/// each of those counts is walked byte by byte to the end, and real models sampling at temperature 1 under tight
/// limits always give whole, valid documents.
/// </summary>
public class TokenLimitTests(ITestOutputHelper log)
{
    private static string Model(string folder, string file) => TestPaths.SharedFile("models", folder, file);

    private static JsonSchema Schema(int index) => index < 0 ? JsonSchema.AnyObject : JsonSchema.Compile(JsonNode.Parse(ConstrainedGenerationTests.Schemas[index]));

    [Theory]
    [InlineData(-1, "", "{}")]
    [InlineData(-1, "{", "}")]
    [InlineData(-1, "{\"ab", "\":0}")]
    [InlineData(-1, "{\"a\":", "0}")]
    [InlineData(-1, "{\"a\":[1,{\"b\":\"x", "\"}]}")]
    [InlineData(-1, "{\"a\":-", "0}")]
    [InlineData(-1, "{\"a\":tr", "ue}")]
    [InlineData(-1, "{\"a\":1.5e", "0}")]
    [InlineData(-1, "{\"a\":\"\\u00", "00\"}")]
    [InlineData(-1, "{\"a\":1,", "\"\":0}")]
    [InlineData(-1, "{\"a\":1}", "")]
    [InlineData(0, "", "{\"name\":\"\",\"age\":0,\"happy\":true}")]
    [InlineData(0, "{\"na", "me\":\"\",\"age\":0,\"happy\":true}")]
    [InlineData(0, "{\"age\":1,\"happy\":false,", "\"name\":\"\"}")]
    [InlineData(1, "", "[0]")]
    [InlineData(1, "[1,", "0]")]
    [InlineData(3, "", "{\"v\":0,\"next\":null}")]
    [InlineData(4, "", "\"aa\"")]
    [InlineData(4, "\"a", "a\"")]
    public void Remaining_bytes_are_the_shortest_completion(int schema, string prefix, string completion)
    {
        var matcher = new JsonMatcher(Schema(schema));
        Assert.True(matcher.TryAdvance(prefix));
        Assert.Equal(Encoding.UTF8.GetByteCount(completion), matcher.RemainingBytes);
        Assert.True(matcher.TryAdvance(completion), $"'{prefix}' + '{completion}' refused");
        Assert.True(matcher.IsFinished || matcher.IsAccepting);
    }

    public static TheoryData<int, string> Documents => new()
    {
        { -1, "{\"x\": [1, {\"y\": \"z\\n\\u00e9\"}], \"n\": -0.5E+2, \"t\": true, \"é\": null, \"o\": {}}" },
        { 0, "{\"name\": \"Lily\", \"age\": 4, \"tags\": [\"a\", \"ü\"], \"happy\": true, \"pet\": \"cat\"}" },
        { 1, "[1.5, null, -2e3]" },
        { 2, "{\"kind\": \"square\", \"side\": 3}" },
        { 3, "{\"v\": 1, \"next\": {\"v\": 2, \"next\": null}}" },
        { 4, "\"héllo\"" },
        { 5, "{\"a\": {\"b\": [true, false]}}" },
    };

    /// <summary>
    /// From every prefix of a valid document (every byte position, inside keys, escapes and multi-byte characters),
    /// some byte always lowers the count by one, until the document is complete: so one-byte tokens can always
    /// close it in exactly the counted number of tokens.
    /// </summary>
    [Theory]
    [MemberData(nameof(Documents))]
    public void From_every_prefix_the_count_is_walked_to_a_complete_document(int schema, string document)
    {
        var bytes = Encoding.UTF8.GetBytes(document);
        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var matcher = new JsonMatcher(Schema(schema));
            Assert.True(matcher.TryAdvance(bytes.AsSpan(0, cut)));
            var count = matcher.RemainingBytes;
            var written = new List<byte>();
            for (var left = count; left > 0; left--)
            {
                if (left == 1 && matcher.IsAccepting) break; // a stop token ends it
                var next = Enumerable.Range(0, 256).Select(b => (byte)b).Where(b => matcher.RemainingBytesAfter([b]) == left - 1).Take(1).ToArray();
                Assert.True(next.Length == 1, $"after '{Encoding.UTF8.GetString(bytes, 0, cut)}' + '{Encoding.UTF8.GetString(written.ToArray())}': no byte lowers {left}");
                Assert.True(matcher.TryAdvance(next));
                written.Add(next[0]);
            }
            Assert.True(matcher.IsAccepting, $"'{Encoding.UTF8.GetString(bytes, 0, cut)}' + '{Encoding.UTF8.GetString(written.ToArray())}' is not complete");
            var text = Encoding.UTF8.GetString(bytes, 0, cut) + Encoding.UTF8.GetString(written.ToArray());
            Assert.True(SchemaValidator.IsValid(JsonNode.Parse(text), schema < 0 ? JsonNode.Parse("""{"type": "object"}""")! : JsonNode.Parse(ConstrainedGenerationTests.Schemas[schema])!), text);
        }
    }

    [Fact]
    public void A_limit_below_the_shortest_output_is_refused()
    {
        using var model = LoadedModel.Load("m", Model("stories260K", "stories260K.gguf"));
        var trie = VocabularyTrie.For(model.Tokenizer);
        var stops = model.Tokenizer.EndOfGenerationIds;
        var e = Assert.Throws<TokenBudgetTooSmallException>(() => new JsonTokenConstraint(new JsonMatcher(JsonSchema.AnyObject), trie, stops, maxTokens: 1));
        Assert.Equal((1, 2), (e.MaxTokens, e.NeededTokens));
        Assert.Equal(2, new JsonTokenConstraint(new JsonMatcher(JsonSchema.AnyObject), trie, stops, maxTokens: 2).TokensLeft);
        Assert.Throws<TokenBudgetTooSmallException>(() => new JsonTokenConstraint(new JsonMatcher(Schema(0)), trie, stops, maxTokens: 31));
        Assert.Equal(32, Schema(0).ShortestLength);
    }

    [Fact]
    public void A_schema_without_a_finite_value_is_refused_at_any_limit()
    {
        using var model = LoadedModel.Load("m", Model("stories260K", "stories260K.gguf"));
        var endless = JsonSchema.Compile(JsonNode.Parse("""{"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]}"""));
        var e = Assert.Throws<TokenBudgetTooSmallException>(() =>
            new JsonTokenConstraint(new JsonMatcher(endless), VocabularyTrie.For(model.Tokenizer), model.Tokenizer.EndOfGenerationIds, 100_000));
        Assert.Contains("no finite output", e.Message);
        // The same recursion made optional has a short value.
        Assert.Equal(2, JsonSchema.Compile(JsonNode.Parse("""{"type": "object", "properties": {"next": {"$ref": "#"}}}""")).ShortestLength);
    }

    [Theory]
    [InlineData("stories260K", "stories260K.gguf")]
    [InlineData("tiny", "tiny-qwen2-q8_0.gguf")]
    public void With_a_limit_the_mask_equals_asking_every_token(string folder, string file)
    {
        using var model = LoadedModel.Load("m", Model(folder, file));
        var trie = VocabularyTrie.For(model.Tokenizer);
        var stops = model.Tokenizer.EndOfGenerationIds;
        foreach (var prefix in new[] { "", "{\"na", "{\"name\":", "{\"name\": \"Li", "{\"name\": \"Li\", \"age\": 4", "{\"name\": \"Li\", \"age\": 4, \"happy\": true" })
        {
            foreach (var slack in new[] { 0, 1, 4 })
            {
                var matcher = new JsonMatcher(Schema(0));
                Assert.True(matcher.TryAdvance(prefix));
                var constraint = new JsonTokenConstraint(matcher, trie, stops, matcher.RemainingBytes + slack);
                var mask = new ulong[(trie.VocabSize + 63) / 64];
                constraint.FillMask(mask);
                var allowed = 0;
                for (var id = 0; id < trie.VocabSize; id++)
                {
                    var bit = (mask[id >> 6] >> (id & 63) & 1) != 0;
                    Assert.True(bit == constraint.Allows(id), $"after '{prefix}' with {slack} spare: token {id} mask {bit}");
                    if (bit) allowed++;
                }
                Assert.True(allowed > 0, $"nothing allowed after '{prefix}' with {slack} spare");
            }
        }
    }

    /// <summary>
    /// A model that never learnt JSON rambles inside strings and keys; under tight limits it must still close every
    /// document, within the limit, and every one validates.
    /// </summary>
    [Theory]
    [InlineData("stories260K", "stories260K.gguf", 12)]
    [InlineData("tiny", "tiny-qwen2-q8_0.gguf", 2)]
    public async Task Tight_limits_always_give_whole_valid_documents(string folder, string file, int seeds)
    {
        using var engine = new InferenceEngine(LoadedModel.Load("m", Model(folder, file)), parallel: 4, queueLimit: 4096, contextLength: 512);
        var tokenizer = engine.Model.Tokenizer;
        var prompt = engine.Model.TokenizeRaw("Once upon a time");
        var jobs = new List<Task<(int Schema, int Limit, GenerationResult Result)>>();
        var rng = new Random(99);
        foreach (var schema in new[] { -1, 0, 1, 2, 3, 5 })
        {
            var shortest = Schema(schema).ShortestLength;
            foreach (var extra in new[] { 0, 1, 5, 20 })
            {
                for (var i = 0; i < seeds; i++)
                {
                    var limit = shortest + extra;
                    var stopping = new GenerationOptions { MaxTokens = limit, StopTokenIds = tokenizer.EndOfGenerationIds };
                    var request = new GenerationRequest(prompt, new SamplingOptions { Temperature = 1, Seed = (ulong)rng.NextInt64() }, stopping)
                    {
                        Constraint = new JsonTokenConstraint(new JsonMatcher(Schema(schema)), VocabularyTrie.For(tokenizer), tokenizer.EndOfGenerationIds, limit),
                    };
                    jobs.Add(Task.Run(async () => (schema, limit, await engine.GenerateToEndAsync(request))));
                }
            }
        }
        var results = await Task.WhenAll(jobs);
        foreach (var (schema, limit, result) in results)
        {
            Assert.True(result.Finish is FinishReason.ConstraintComplete or FinishReason.StopToken, $"schema {schema}, limit {limit}: {result.Finish}: {result.Text}");
            Assert.InRange(result.TokenIds.Count, 1, limit);
            JsonNode? parsed = null;
            var error = Record.Exception(() => parsed = JsonNode.Parse(result.Text));
            Assert.True(error is null, $"schema {schema}, limit {limit}: not JSON: {result.Text}");
            var spec = schema < 0 ? JsonNode.Parse("""{"type": "object"}""")! : JsonNode.Parse(ConstrainedGenerationTests.Schemas[schema])!;
            Assert.True(SchemaValidator.IsValid(parsed, spec), $"schema {schema}: does not validate: {result.Text}");
        }
        log.WriteLine($"{results.Length} documents; longest: {results.MaxBy(r => r.Result.Text.Length).Result.Text}");
    }

    /// <summary>Checks every step's forced token against the full mask, then lets the scheduler use it.</summary>
    private sealed class CheckedForcing(JsonTokenConstraint inner, int vocab) : ITokenConstraint
    {
        public int Steps, Forced, Alone;
        public readonly List<string> Errors = [];

        public int ForcedToken()
        {
            var mask = new ulong[(vocab + 63) / 64];
            inner.FillMask(mask);
            var allowed = mask.Sum(w => System.Numerics.BitOperations.PopCount(w));
            var only = allowed == 1 ? Enumerable.Range(0, vocab).First(id => (mask[id >> 6] >> (id & 63) & 1) != 0) : -1;
            var forced = inner.ForcedToken();
            Steps++;
            if (forced >= 0) Forced++;
            if (forced >= 0 && forced != only) Errors.Add($"forced {forced}, but the mask allows {allowed} tokens");
            // Only one byte may come next, so every allowed token starts with it: a lone one must be found.
            if (only >= 0 && !inner.Matcher.IsAccepting && inner.Matcher.OnlyNextByte() >= 0 && forced != only) Errors.Add($"the mask allows only {only}, not forced");
            if (only >= 0) Alone++;
            return forced;
        }

        public bool Allows(int tokenId) => inner.Allows(tokenId);
        public void FillMask(Span<ulong> mask) => inner.FillMask(mask);
        public void Accept(int tokenId) => inner.Accept(tokenId);
        public bool IsFinished => inner.IsFinished;
    }

    /// <summary>
    /// A forced token (taken without a draw) is always the one token the mask allows, and every such lone token is
    /// forced when a single byte may come next (a lone token left by the limit alone takes the drawn path); forced
    /// steps happen, and the documents still validate.
    /// </summary>
    [Theory]
    [InlineData("stories260K", "stories260K.gguf")]
    [InlineData("tiny", "tiny-qwen2-q8_0.gguf")]
    public async Task A_token_is_forced_exactly_when_the_mask_allows_it_alone(string folder, string file)
    {
        using var engine = new InferenceEngine(LoadedModel.Load("m", Model(folder, file)), parallel: 4, queueLimit: 4096, contextLength: 512);
        var tokenizer = engine.Model.Tokenizer;
        var prompt = engine.Model.TokenizeRaw("Once upon a time");
        var runs = new List<(CheckedForcing Check, int Schema, Task<GenerationResult> Result)>();
        foreach (var schema in new[] { -1, 0, 2, 3 })
        {
            foreach (var limit in new[] { Schema(schema).ShortestLength + 2, 40 })
            {
                for (var seed = 0UL; seed < 2; seed++)
                {
                    var check = new CheckedForcing(new JsonTokenConstraint(new JsonMatcher(Schema(schema)), VocabularyTrie.For(tokenizer), tokenizer.EndOfGenerationIds, limit), tokenizer.VocabSize);
                    var stopping = new GenerationOptions { MaxTokens = limit, StopTokenIds = tokenizer.EndOfGenerationIds };
                    var request = new GenerationRequest(prompt, new SamplingOptions { Temperature = 1, Seed = seed }, stopping) { Constraint = check };
                    runs.Add((check, schema, engine.GenerateToEndAsync(request)));
                }
            }
        }
        await Task.WhenAll(runs.Select(r => r.Result));
        foreach (var (check, schema, task) in runs)
        {
            var result = await task;
            Assert.Empty(check.Errors);
            var spec = schema < 0 ? JsonNode.Parse("""{"type": "object"}""")! : JsonNode.Parse(ConstrainedGenerationTests.Schemas[schema])!;
            Assert.True(SchemaValidator.IsValid(JsonNode.Parse(result.Text), spec), result.Text);
        }
        var (steps, forced, alone) = (runs.Sum(r => r.Check.Steps), runs.Sum(r => r.Check.Forced), runs.Sum(r => r.Check.Alone));
        log.WriteLine($"{folder}: {forced} of {steps} steps forced, of {alone} where one token alone was allowed");
        Assert.True(forced > 0, "no step was forced");
    }
}
