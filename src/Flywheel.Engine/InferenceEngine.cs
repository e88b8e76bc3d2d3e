using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Flywheel.Engine.Sampling;
using Flywheel.Engine.Scheduling;
using Flywheel.Models;
using Flywheel.Tokenizers;

namespace Flywheel.Engine;

/// <summary>
/// Runs generation requests for one <see cref="LoadedModel"/> over a <see cref="SessionPool"/>. Each request runs on
/// a worker thread and streams its tokens back through a bounded channel; cancelling the caller's token (a client
/// that disconnects) stops the generation at the next token and frees its session and KV cache.
/// Thread-safe: many requests may be in flight, up to the pool size, with more waiting in line.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly SessionPool _pool;

    public InferenceEngine(LoadedModel model, int parallel = 1, int queueLimit = 64, int? contextLength = null)
    {
        Model = model;
        _pool = new SessionPool(model.Model, parallel, queueLimit, new SessionOptions { ContextLength = contextLength });
    }

    public LoadedModel Model { get; }
    public int ContextLength => _pool.ContextLength;
    public int Parallel => _pool.Size;
    public int Waiting => _pool.Waiting;
    public int Busy => _pool.Busy;

    /// <summary>KV-cache positions held by running requests, across all sessions.</summary>
    public long CachedTokens => Interlocked.Read(ref _cachedTokens);

    /// <summary>KV-cache positions the pool holds in all (sessions × context length).</summary>
    public long CacheCapacity => (long)_pool.Size * _pool.ContextLength;

    private long _cachedTokens;

    /// <summary>
    /// Streams the tokens of one generation. Throws <see cref="ContextLengthExceededException"/> before any work
    /// when the prompt cannot fit, and <see cref="QueueFullException"/> when the waiting line is full.
    /// </summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (request.PromptIds.Count == 0) throw new ArgumentException("the prompt is empty");
        if (request.PromptIds.Count >= ContextLength) throw new ContextLengthExceededException(request.PromptIds.Count, ContextLength);
        var session = await _pool.RentAsync(cancellationToken).ConfigureAwait(false);
        var held = 0L;
        var channel = Channel.CreateBounded<GeneratedToken>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var worker = Task.Factory.StartNew(
            () => Run(session, request, channel.Writer, stop.Token),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        try
        {
            await foreach (var token in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = session.Position;
                Interlocked.Add(ref _cachedTokens, now - held);
                held = now;
                yield return token;
            }
        }
        finally
        {
            // Also reached when the consumer stops early: stop the worker, wait for it, then free the session.
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await worker.ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Add(ref _cachedTokens, -held);
                _pool.Return(session);
            }
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

    private void Run(ModelSession session, GenerationRequest request, ChannelWriter<GeneratedToken> writer, CancellationToken stop)
    {
        try
        {
            var sampler = new Sampler(Model.Model.Config.VocabSize, request.Sampling);
            var decoder = new StreamingDecoder(Model.Tokenizer);
            var loop = new GenerationLoop(session, sampler, decoder.Append);
            foreach (var token in loop.Stream(request.PromptIds, request.Stopping))
            {
                if (stop.IsCancellationRequested) break;
                // Blocking write: the worker is a dedicated thread, and back-pressure from a slow reader is wanted.
                if (!writer.WaitToWriteAsync(stop).AsTask().GetAwaiter().GetResult()) break;
                writer.TryWrite(token);
            }
            writer.TryComplete();
        }
        catch (OperationCanceledException)
        {
            writer.TryComplete();
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
        }
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

    public void Dispose() => Model.Dispose();
}
