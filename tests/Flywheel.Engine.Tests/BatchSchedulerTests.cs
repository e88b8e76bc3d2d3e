using Flywheel.Engine.Sampling;
using Flywheel.Engine.Scheduling;
using Flywheel.Models;
using Flywheel.Testing;
using Flywheel.Tokenizers;

namespace Flywheel.Engine.Tests;

/// <summary>
/// Continuous batching on stories260K: sequences decoding together give exactly what each gives alone through the
/// single-sequence <see cref="GenerationLoop"/>; long prompts are prefilled in chunks between decode steps;
/// cancellation frees the cache; a KV budget too small for everyone preempts and recomputes, and still completes.
/// </summary>
public sealed class BatchSchedulerTests
{
    private static string StoriesPath => TestPaths.SharedFile("models", "stories260K", "stories260K.gguf");

    private static readonly string[] Prompts =
    [
        "Once upon a time", "The little dog", "Lily and Tom went to the park", "One day, a big bird",
        "Tim had a red ball. He", "The sun was hot and", "Mom said", "There was a cat who liked to",
    ];

    private static GenerationRequest Request(LoadedModel model, string prompt, int maxTokens, SamplingOptions? sampling = null, params string[] stops) =>
        new(model.TokenizeRaw(prompt), sampling ?? SamplingOptions.Greedy,
            new GenerationOptions { MaxTokens = maxTokens, StopStrings = stops, StopTokenIds = model.Tokenizer.EosId is { } eos ? new HashSet<int> { eos } : new HashSet<int>() });

    /// <summary>The single-sequence path: a fresh session and <see cref="GenerationLoop"/>.</summary>
    private static (string Text, FinishReason Finish) Alone(LoadedModel model, GenerationRequest request, int context)
    {
        var session = model.Model.CreateSession(new SessionOptions { ContextLength = context });
        var decoder = new StreamingDecoder(model.Tokenizer);
        var loop = new GenerationLoop(session, new Sampler(model.Model.Config.VocabSize, request.Sampling), decoder.Append);
        var result = loop.Run(request.PromptIds, request.Stopping);
        return (result.Text, result.Finish);
    }

    private static async Task<(string Text, FinishReason Finish)> Together(InferenceEngine engine, GenerationRequest request)
    {
        var result = await engine.GenerateToEndAsync(request);
        return (result.Text, result.Finish);
    }

    private static GenerationRequest[] Mixed(LoadedModel model) =>
    [
        .. Prompts.Select((p, i) => Request(model, p, 20 + 7 * i)),
        Request(model, "Lily", 40, new SamplingOptions { Temperature = 1, Seed = 7 }),
        Request(model, "Once upon a time", 40, null, "Lily"),
    ];

    [Fact]
    public async Task Concurrent_requests_give_exactly_the_text_of_each_alone()
    {
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", StoriesPath), parallel: 4, contextLength: 256);
        var requests = Mixed(engine.Model);
        var expected = requests.Select(r => Alone(engine.Model, r, 256)).ToArray();
        var actual = await Task.WhenAll(requests.Select(r => Task.Run(() => Together(engine, r))));
        Assert.Equal(expected, actual);
        Assert.Equal(", there was a little girl named ", actual[^1].Text);
        Assert.Equal(FinishReason.StopString, actual[^1].Finish);
        // Several sequences really shared passes: fewer passes than rows.
        Assert.True(engine.Scheduler.StepRows > engine.Scheduler.Steps * 2, $"{engine.Scheduler.StepRows} rows in {engine.Scheduler.Steps} passes");
        Assert.Equal(0, engine.CachedTokens);
        Assert.Equal(0, engine.Busy);
    }

    [Fact]
    public async Task A_long_prompt_is_prefilled_in_chunks_while_others_decode()
    {
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", StoriesPath), parallel: 3, contextLength: 512);
        var model = engine.Model;
        var longPrompt = string.Concat(Enumerable.Repeat("Lily went to the park with her mom. ", 25)) + "Then";
        var longRequest = Request(model, longPrompt, 16);
        Assert.True(longRequest.PromptIds.Count > 2 * BatchScheduler.ChunkTokens, $"{longRequest.PromptIds.Count} tokens");
        var decoders = new[] { Request(model, "Once upon a time", 120), Request(model, "The little dog", 120) };
        var started = new TaskCompletionSource();
        var decoderTokensDuringPrefill = 0;
        var longStarted = false;
        var longDone = false;
        var decoderTasks = decoders.Select(async (r, i) =>
        {
            var text = new System.Text.StringBuilder();
            var count = 0;
            await foreach (var t in engine.GenerateAsync(r))
            {
                text.Append(t.Text);
                if (++count == 5 && i == 0) started.TrySetResult();
                if (Volatile.Read(ref longStarted) && !Volatile.Read(ref longDone)) Interlocked.Increment(ref decoderTokensDuringPrefill);
            }
            return text.ToString();
        }).ToArray();
        await started.Task;
        Volatile.Write(ref longStarted, true);
        var longText = new System.Text.StringBuilder();
        await foreach (var t in engine.GenerateAsync(longRequest))
        {
            Volatile.Write(ref longDone, true);
            longText.Append(t.Text);
        }
        var decoded = await Task.WhenAll(decoderTasks);
        Assert.Equal(Alone(model, longRequest, 512).Text, longText.ToString());
        for (var i = 0; i < decoders.Length; i++) Assert.Equal(Alone(model, decoders[i], 512).Text, decoded[i]);
        // The long prompt took three passes of at most ChunkTokens rows each, and the decoders went on meanwhile.
        Assert.True(decoderTokensDuringPrefill >= 2, $"{decoderTokensDuringPrefill} decoder tokens during the long prefill");
    }

    [Fact]
    public async Task Cancelling_mid_batch_frees_the_cache_and_the_others_finish()
    {
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", StoriesPath), parallel: 3, contextLength: 256);
        var model = engine.Model;
        var keep = Request(model, "Once upon a time", 60);
        using var cancel = new CancellationTokenSource();
        var got = new TaskCompletionSource();
        var cancelled = Task.Run(async () =>
        {
            var n = 0;
            await foreach (var _ in engine.GenerateAsync(Request(model, "The little dog", 200), cancel.Token))
            {
                if (++n == 3) got.TrySetResult();
            }
        });
        var early = Task.Run(async () =>
        {
            // A consumer that stops reading after a few tokens also leaves the batch.
            var n = 0;
            await foreach (var _ in engine.GenerateAsync(Request(model, "Mom said", 200)))
            {
                if (++n == 4) break;
            }
        });
        var kept = Together(engine, keep);
        await got.Task;
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await early;
        Assert.Equal(Alone(model, keep, 256), await kept);
        Assert.Equal(0, engine.CachedTokens);
        Assert.Equal(0, engine.Busy);
        Assert.Equal(0, engine.Waiting);
    }

    [Fact]
    public async Task A_tiny_cache_preempts_and_still_completes_every_request_exactly()
    {
        // Eight sequences of up to ~60 positions each in a budget of 120: they cannot all hold their caches at once.
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", StoriesPath), parallel: 8, contextLength: 128, cacheTokens: 120);
        var model = engine.Model;
        var requests = Prompts.Select(p => Request(model, p, 50)).ToArray();
        var expected = requests.Select(r => Alone(model, r, 128)).ToArray();
        var actual = await Task.WhenAll(requests.Select(r => Task.Run(() => Together(engine, r))));
        Assert.Equal(expected, actual);
        Assert.True(engine.Scheduler.Preemptions > 0, "no sequence was preempted");
        Assert.Equal(0, engine.CachedTokens);
    }

    [Fact]
    public async Task The_waiting_line_is_bounded()
    {
        using var engine = new InferenceEngine(LoadedModel.Load("stories260K", StoriesPath), parallel: 1, queueLimit: 1, contextLength: 256);
        var model = engine.Model;
        using var stop = new CancellationTokenSource();
        var first = engine.GenerateAsync(Request(model, "Once upon a time", 200), stop.Token).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync()); // running
        var second = engine.GenerateAsync(Request(model, "The little dog", 5)).GetAsyncEnumerator();
        var secondFirst = second.MoveNextAsync(); // waiting in line
        await Assert.ThrowsAsync<Scheduling.QueueFullException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync(Request(model, "Mom said", 5))) { }
        });
        await first.DisposeAsync();
        Assert.True(await secondFirst);
        while (await second.MoveNextAsync()) { }
        await second.DisposeAsync();
        Assert.Equal(0, engine.CachedTokens);
    }
}
