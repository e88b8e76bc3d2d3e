using Flywheel.Engine.Sampling;
using Flywheel.Models;
using Flywheel.Testing;
using Flywheel.Tokenizers;

namespace Flywheel.Engine.Tests;

/// <summary>
/// Shared prefixes through the paged KV cache: a prompt that starts like an earlier one (a common system prompt, the
/// earlier turns of a chat) attaches the cached blocks instead of computing them, and generates exactly what it
/// generates without sharing.
/// </summary>
public sealed class PrefixSharingTests
{
    private static string StoriesPath => TestPaths.SharedFile("models", "stories260K", "stories260K.gguf");

    private const string System =
        "Once upon a time, there was a little girl named Lily. She liked to play in the park with her friends. " +
        "One day, she saw a big red ball under a tree.";

    private static GenerationRequest Request(LoadedModel model, string prompt, int maxTokens) =>
        new(model.TokenizeRaw(prompt), SamplingOptions.Greedy, new GenerationOptions { MaxTokens = maxTokens, StopTokenIds = new HashSet<int>() });

    private static string Alone(LoadedModel model, GenerationRequest request)
    {
        var session = model.Model.CreateSession(new SessionOptions { ContextLength = 256 });
        var loop = new GenerationLoop(session, new Sampler(model.Model.Config.VocabSize, request.Sampling), new StreamingDecoder(model.Tokenizer).Append);
        return loop.Run(request.PromptIds, request.Stopping).Text;
    }

    [Fact]
    public async Task A_later_request_with_the_same_beginning_reuses_the_cached_prefix_and_generates_the_same_text()
    {
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", StoriesPath), parallel: 2, contextLength: 256);
        var first = Request(engine.Model, System + " Lily", 16);
        var second = Request(engine.Model, System + " Tom", 16);
        Assert.Equal(Alone(engine.Model, first), (await engine.GenerateToEndAsync(first)).Text);
        Assert.Equal(0, engine.Scheduler.ReusedTokens);

        var shared = first.PromptIds.Zip(second.PromptIds).TakeWhile(p => p.First == p.Second).Count();
        Assert.Equal(Alone(engine.Model, second), (await engine.GenerateToEndAsync(second)).Text);
        // Every whole 16-position block of the common beginning was attached, not computed.
        Assert.Equal(shared / 16 * 16, engine.Scheduler.ReusedTokens);
        Assert.True(engine.Scheduler.ReusedTokens >= 32, $"reused {engine.Scheduler.ReusedTokens} of {shared} shared tokens");
        Assert.Equal(0, engine.CachedTokens);
    }

    [Fact]
    public async Task A_follow_up_turn_reuses_the_previous_turn_including_its_answer()
    {
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", StoriesPath), parallel: 1, contextLength: 256);
        var turn = Request(engine.Model, System, 40);
        var answer = (await engine.GenerateToEndAsync(turn)).Text;
        var next = Request(engine.Model, System + answer + " The end.", 8);
        Assert.Equal(Alone(engine.Model, next), (await engine.GenerateToEndAsync(next)).Text);
        Assert.True(engine.Scheduler.ReusedTokens > turn.PromptIds.Count, $"reused {engine.Scheduler.ReusedTokens}; the first prompt had {turn.PromptIds.Count} tokens");
    }

    [Fact]
    public async Task Concurrent_requests_sharing_a_system_prompt_in_a_small_pool_all_complete_correctly()
    {
        // 8 requests, 4 at a time, in a pool of 12 blocks: sharing, preemption and eviction all happen.
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", StoriesPath), parallel: 4, contextLength: 128, cacheTokens: 192);
        string[] names = ["Lily", "Tom", "Sam", "Anna", "Ben", "Mia", "Max", "Sue"];
        var requests = names.Select(n => Request(engine.Model, System + " " + n, 24)).ToArray();
        var expected = requests.Select(r => Alone(engine.Model, r)).ToArray();
        var actual = await Task.WhenAll(requests.Select(r => Task.Run(async () => (await engine.GenerateToEndAsync(r)).Text)));
        Assert.Equal(expected, actual);
        Assert.True(engine.Scheduler.ReusedTokens > 0);
        Assert.Equal(0, engine.CachedTokens);
    }
}
