using System.Runtime.CompilerServices;
using Flywheel.Engine.Sampling;
using Flywheel.Engine.Scheduling;
using Flywheel.Models;
using Flywheel.Tokenizers;

namespace Flywheel.Engine;

/// <summary>
/// Runs generation requests for one <see cref="LoadedModel"/> with continuous batching (<see cref="BatchScheduler"/>):
/// up to <c>parallel</c> sequences decode together in one forward pass per step, new requests join the running batch
/// at the next step, and each streams its tokens back through its own channel. Cancelling the caller's token (a
/// client that disconnects) drops the sequence at the next step and frees its KV cache.
/// Thread-safe: many requests may be in flight, up to <c>parallel</c> in the batch, with more waiting in line.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly BatchScheduler _scheduler;

    /// <param name="cacheTokens">KV-cache positions all running sequences may hold together; null means
    /// parallel × context length (every sequence can reach the full context without preemption).</param>
    public InferenceEngine(LoadedModel model, int parallel = 1, int queueLimit = 64, int? contextLength = null, int? cacheTokens = null)
    {
        Model = model;
        var ctx = contextLength ?? Math.Min(model.Model.Config.TrainedContextLength, Models.Model.DefaultMaxContextLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(ctx, 1, nameof(contextLength));
        _scheduler = new BatchScheduler(model.Model, model.Tokenizer, parallel, ctx, queueLimit, cacheTokens);
    }

    public LoadedModel Model { get; }

    /// <summary>Most positions one sequence may hold.</summary>
    public int ContextLength => _scheduler.ContextLength;
    public int Parallel => _scheduler.MaxSequences;
    public int Waiting => _scheduler.Waiting;
    public int Busy => _scheduler.Running;

    /// <summary>The scheduler, for its counters (steps, rows per step, preemptions).</summary>
    public BatchScheduler Scheduler => _scheduler;

    /// <summary>KV-cache positions held by running requests.</summary>
    public long CachedTokens => _scheduler.CachedTokens;

    /// <summary>KV-cache positions the running requests may hold in all.</summary>
    public long CacheCapacity => _scheduler.CacheCapacity;

    /// <summary>
    /// Streams the tokens of one generation. Throws <see cref="ContextLengthExceededException"/> before any work
    /// when the prompt cannot fit, and <see cref="QueueFullException"/> when the waiting line is full.
    /// </summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (request.PromptIds.Count == 0) throw new ArgumentException("the prompt is empty");
        if (request.PromptIds.Count >= ContextLength) throw new ContextLengthExceededException(request.PromptIds.Count, ContextLength);
        cancellationToken.ThrowIfCancellationRequested();
        var sequence = _scheduler.Enqueue(request);
        try
        {
            await foreach (var token in sequence.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return token;
            }
        }
        finally
        {
            // Also reached when the consumer stops early: the sequence leaves the batch and its cache is free on return.
            await _scheduler.Leave(sequence).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a whole generation and collects it (CLI, evaluation, non-streaming requests).</summary>
    public async Task<GenerationResult> GenerateToEndAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        var ids = new List<int>();
        var text = new System.Text.StringBuilder();
        var finish = FinishReason.Length;
        await foreach (var token in GenerateAsync(request, cancellationToken).ConfigureAwait(false))
        {
            text.Append(token.Text);
            if (token.Id >= 0 && token.Finish is not FinishReason.StopToken) ids.Add(token.Id);
            if (token.Finish is { } f) finish = f;
        }
        return new GenerationResult(ids, text.ToString(), finish);
    }

    private readonly SemaphoreSlim _embedGate = new(1, 1);
    private ModelSession? _embedSession;

    /// <summary>Width of the vectors <see cref="EmbedAsync"/> returns (n_embd).</summary>
    public int EmbeddingLength => Model.Model.Config.EmbeddingLength;

    /// <summary>
    /// Embeds each token list: the mean of the final-RMSNorm'ed hidden states, L2-normalised [n_embd] (see
    /// <see cref="ModelSession.Embed"/>). Throws <see cref="ContextLengthExceededException"/> before any work when an input
    /// is longer than the context. Embeddings run one at a time on a session of their own, beside generation.
    /// </summary>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<IReadOnlyList<int>> inputs, CancellationToken cancellationToken = default)
    {
        foreach (var tokens in inputs)
        {
            if (tokens.Count == 0) throw new ArgumentException("an input to embed is empty");
            if (tokens.Count > ContextLength) throw new ContextLengthExceededException(tokens.Count, ContextLength, generating: false);
        }
        await _embedGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(() =>
            {
                _embedSession ??= Model.Model.CreateSession(new SessionOptions { ContextLength = ContextLength });
                var results = new float[inputs.Count][];
                for (var i = 0; i < inputs.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var ids = inputs[i] as int[] ?? [.. inputs[i]];
                    results[i] = new float[EmbeddingLength];
                    _embedSession.Embed(ids, results[i]);
                }
                return results;
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _embedGate.Release();
        }
    }

    public void Dispose()
    {
        _scheduler.Dispose();
        Model.Dispose();
    }
}
