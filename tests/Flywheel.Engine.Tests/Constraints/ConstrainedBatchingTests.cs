using System.Text.Json.Nodes;
using Flywheel.Engine.Constraints;
using Flywheel.Engine.Sampling;
using Flywheel.Testing;

namespace Flywheel.Engine.Tests.Constraints;

/// <summary>Constraints inside continuous batching, and the masked sampler they rely on.</summary>
public class ConstrainedBatchingTests
{
    private static string StoriesPath => TestPaths.SharedFile("models", "stories260K", "stories260K.gguf");

    [Fact]
    public async Task Unconstrained_sequences_batched_with_constrained_ones_give_their_solo_text()
    {
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", StoriesPath), parallel: 4, contextLength: 256);
        var tokenizer = engine.Model.Tokenizer;
        GenerationRequest Free(string prompt) => new(engine.Model.TokenizeRaw(prompt), SamplingOptions.Greedy,
            new GenerationOptions { MaxTokens = 40, StopTokenIds = tokenizer.EndOfGenerationIds });
        GenerationRequest Json(string prompt, ulong seed) => new(engine.Model.TokenizeRaw(prompt), new SamplingOptions { Temperature = 1, Seed = seed },
            new GenerationOptions { MaxTokens = 120, StopTokenIds = tokenizer.EndOfGenerationIds })
        {
            Constraint = new JsonTokenConstraint(
                new JsonMatcher(JsonSchema.Compile(JsonNode.Parse("""{"type": "array", "items": {"type": "integer"}, "maxItems": 3}"""))),
                VocabularyTrie.For(tokenizer), tokenizer.EndOfGenerationIds),
        };

        var solo = new[]
        {
            await engine.GenerateToEndAsync(Free("Once upon a time")),
            await engine.GenerateToEndAsync(Free("The little dog")),
        };
        var together = await Task.WhenAll(
            engine.GenerateToEndAsync(Json("Numbers:", 1)),
            engine.GenerateToEndAsync(Free("Once upon a time")),
            engine.GenerateToEndAsync(Json("More numbers:", 2)),
            engine.GenerateToEndAsync(Free("The little dog")));
        Assert.Equal(solo[0].Text, together[1].Text);
        Assert.Equal(solo[1].Text, together[3].Text);
        foreach (var json in new[] { together[0], together[2] })
        {
            Assert.Equal(FinishReason.ConstraintComplete, json.Finish);
            var array = Assert.IsType<JsonArray>(JsonNode.Parse(json.Text));
            Assert.InRange(array.Count, 0, 3);
        }
        Assert.Equal(0, engine.CachedTokens);
    }

    [Fact]
    public void The_masked_sampler_draws_only_allowed_tokens()
    {
        var logits = new float[130];
        for (var i = 0; i < logits.Length; i++) logits[i] = i; // the highest ids are the likeliest
        var mask = new ulong[3];
        foreach (var id in new[] { 3, 64, 100 }) mask[id >> 6] |= 1UL << (id & 63);

        var greedy = new Sampler(logits.Length, SamplingOptions.Greedy);
        Assert.Equal(100, greedy.Sample(logits, [], mask));
        Assert.Equal(129, greedy.Sample(logits, []));

        var sampler = new Sampler(logits.Length, new SamplingOptions { Temperature = 50, Seed = 3, TopK = 2 });
        var seen = new HashSet<int>();
        for (var i = 0; i < 300; i++) seen.Add(sampler.Sample(logits, [], mask));
        Assert.Equal([64, 100], seen.Order()); // top-k acts among the allowed tokens
        // Log-probabilities stay those of the raw distribution.
        Assert.Equal(logits[100] - LogSumExp(logits), greedy.Sample(logits, [], mask) == 100 ? greedy.LastLogProb : float.NaN, 4);

        Assert.Throws<InvalidOperationException>(() => greedy.Sample(logits, [], new ulong[3]));
        Assert.Throws<ArgumentException>(() => greedy.Sample(logits, [], new ulong[1]));
    }

    private static float LogSumExp(float[] values)
    {
        var max = values.Max();
        return max + (float)Math.Log(values.Sum(v => Math.Exp(v - max)));
    }
}
