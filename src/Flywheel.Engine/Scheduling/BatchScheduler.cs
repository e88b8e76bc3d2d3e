using System.Runtime.InteropServices;
using Flywheel.Engine.Sampling;
using Flywheel.Models;
using Flywheel.Models.KvCache;
using Flywheel.Models.Layers;
using Flywheel.Tokenizers;

namespace Flywheel.Engine.Scheduling;

/// <summary>
/// Continuous batching. One dedicated loop thread owns the <see cref="BatchSession"/>; every step it drops cancelled
/// sequences, admits waiting ones into free KV-cache slots, and runs ONE forward pass holding a decode row for every
/// sequence that is generating plus prompt chunks (at most <see cref="ChunkTokens"/> per sequence) of those still
/// prefilling, so a long prompt never stalls the decoders. Each sequence then samples from its own logits with its own
/// sampler and stop handling. The KV cache is paged and shared (<see cref="KeyValueCache"/>): a sequence takes blocks
/// as it fills them, and a new sequence whose prompt starts like one computed before (a common system prompt, the
/// earlier turns of a chat) attaches those blocks instead of prefilling them again. When the pool
/// (<see cref="CacheCapacity"/> positions) cannot hold the next step, the latest-admitted sequence is preempted: its
/// blocks are released and it goes back to the front of the line, to be resumed later from its tokens (prompt and
/// generated so far), reattaching whatever of its prefix is still cached. Thread-safe: <see cref="Enqueue"/> and
/// <see cref="Leave"/> may be called from any thread.
/// </summary>
public sealed class BatchScheduler : IDisposable
{
    /// <summary>Most prompt tokens one sequence feeds per step (chunked prefill).</summary>
    public const int ChunkTokens = 128;

    private readonly BatchSession _batch;
    private readonly KeyValueCache _cache;                                 // loop thread only
    private readonly ITokenizer _tokenizer;
    private readonly Lock _gate = new();
    private readonly LinkedList<ScheduledSequence> _waiting = new();       // guarded by _gate
    private readonly List<ScheduledSequence> _running = [];               // loop thread only
    private readonly Stack<int> _freeSlots = new();                        // loop thread only
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _loop;
    private readonly int[] _stepTokens;                                    // [max_tokens]
    private readonly BatchSegment[] _segments;                             // [max_seq]
    private readonly ScheduledSequence[] _stepSequences;                   // [max_seq]
    private readonly StepProfile? _profile = StepProfile.FromEnvironment();
    private long _arrivals;
    private long _cachedTokens;
    private long _reusedTokens;
    private int _runningCount;
    private volatile bool _stopping;

    public BatchScheduler(Model model, ITokenizer tokenizer, int maxSequences, int contextLength, int queueLimit, int? cacheCapacity = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequences, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queueLimit);
        _tokenizer = tokenizer;
        var capacity = cacheCapacity ?? (long)maxSequences * contextLength;
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2, nameof(cacheCapacity));
        QueueLimit = queueLimit;
        _batch = new BatchSession(model, maxSequences, contextLength, ChunkTokens + maxSequences, Math.Min(capacity, (long)maxSequences * contextLength));
        _cache = _batch.Cache;
        CacheCapacity = _cache.Capacity;
        // A sequence can never hold more than its context or the whole pool.
        ContextLength = (int)Math.Min(contextLength, CacheCapacity);
        for (var s = maxSequences - 1; s >= 0; s--) _freeSlots.Push(s);
        _stepTokens = new int[_batch.MaxTokens];
        _segments = new BatchSegment[maxSequences];
        _stepSequences = new ScheduledSequence[maxSequences];
        _loop = new Thread(Loop) { IsBackground = true, Name = "flywheel-batch" };
        _loop.Start();
    }

    public int MaxSequences => _batch.MaxSequences;
    public int QueueLimit { get; }

    /// <summary>Most positions one sequence may hold: min(slot context, <see cref="CacheCapacity"/>).</summary>
    public int ContextLength { get; }

    /// <summary>KV-cache positions all sequences together may hold (whole blocks).</summary>
    public long CacheCapacity { get; }

    /// <summary>KV-cache positions in blocks held by running sequences now (a block shared by several counts once).</summary>
    public long CachedTokens => Interlocked.Read(ref _cachedTokens);

    /// <summary>Prompt positions attached from cached prefix blocks instead of being computed, since start.</summary>
    public long ReusedTokens => Interlocked.Read(ref _reusedTokens);

    /// <summary>Sequences in the running batch now.</summary>
    public int Running => Volatile.Read(ref _runningCount);

    /// <summary>Requests waiting for admission (new or preempted).</summary>
    public int Waiting
    {
        get { lock (_gate) return _waiting.Count; }
    }

    /// <summary>Forward passes run so far, and rows they held (for tests and metrics).</summary>
    public long Steps { get; private set; }
    public long StepRows { get; private set; }
    public long Preemptions { get; private set; }

    /// <summary>Queues a request; throws <see cref="QueueFullException"/> when the line is full.</summary>
    public ScheduledSequence Enqueue(GenerationRequest request)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        var sequence = new ScheduledSequence(request, new Sampler(_batch.VocabSize, request.Sampling), new StreamingDecoder(_tokenizer),
            Interlocked.Increment(ref _arrivals));
        lock (_gate)
        {
            // Sequences that will get a free slot at the next step are not waiting in line.
            if (_waiting.Count >= QueueLimit + Math.Max(0, MaxSequences - Running)) throw new QueueFullException(QueueLimit);
            _waiting.AddLast(sequence);
        }
        _wake.Release();
        return sequence;
    }

    /// <summary>Drops the sequence at the next step (or at once if it already finished); await the task for its cache to be free.</summary>
    public Task Leave(ScheduledSequence sequence)
    {
        sequence.Cancel();
        _wake.Release();
        return sequence.Left.Task;
    }

    private void Loop()
    {
        while (!_stopping)
        {
            try
            {
                if (!Step())
                {
                    _profile?.Idle();
                    _wake.Wait();
                }
                // Let the threads that stream tokens out run between passes: on a machine with few cores the kernel
                // workers and this loop would otherwise keep them waiting, and tokens would reach clients in bursts.
                else Thread.Yield();
            }
            catch (Exception e)
            {
                // A failed pass (a bug, not bad input: requests are validated before they queue) fails every sequence in it
                // rather than the loop; the cache of each is dropped.
                foreach (var s in _running.ToList()) Finish(s, e);
            }
        }
        foreach (var s in _running.ToList()) Finish(s, new ObjectDisposedException(nameof(BatchScheduler)));
        lock (_gate)
        {
            foreach (var s in _waiting) Finished(s, new ObjectDisposedException(nameof(BatchScheduler)));
            _waiting.Clear();
        }
    }

    /// <summary>Runs one step; false when there was nothing to do.</summary>
    private bool Step()
    {
        _profile?.BeginStep();
        for (var i = _running.Count - 1; i >= 0; i--)
        {
            if (_running[i].Cancelled) Finish(_running[i], null);
        }
        Admit();
        if (_running.Count == 0) return false;

        var rows = Plan(out var segmentCount);
        while (rows == 0)
        {
            // Every running sequence is stuck on a full cache: make room by sending the latest back to the line.
            if (_running.Count <= 1) return _running.Count == 1 ? throw new InvalidOperationException("a lone sequence does not fit the KV budget") : true;
            Preempt(_running[^1]);
            rows = Plan(out segmentCount);
        }
        var segments = _segments.AsSpan(0, segmentCount);
        _profile?.Bookkeeping();
        var logits = _batch.Forward(_stepTokens.AsSpan(0, rows), segments);
        _profile?.Forward();
        Steps++;
        StepRows += rows;
        var vocab = _batch.VocabSize;
        var logitRow = 0;
        for (var i = 0; i < segmentCount; i++)
        {
            var s = _stepSequences[i];
            var segment = segments[i];
            s.Cached += segment.RowCount;
            // Register the blocks this step filled, so later prompts with the same beginning can attach them.
            _cache.Commit(s.Slot, CollectionsMarshal.AsSpan(s.Tokens));
            if (segment.LogitRows == 0) continue;
            _profile?.Bookkeeping();
            var row = logits.Slice(logitRow * vocab, vocab);
            logitRow++;
            try
            {
                if (Advance(s, row)) Finish(s, null);
            }
            catch (Exception e)
            {
                Finish(s, e);
            }
            _profile?.Stream();
        }
        PublishCacheUse();
        _profile?.EndStep(rows, segmentCount);
        return true;
    }

    private void PublishCacheUse()
    {
        Interlocked.Exchange(ref _cachedTokens, (long)_cache.UsedBlocks * _cache.BlockSize);
        Interlocked.Exchange(ref _reusedTokens, _cache.ReusedPositions);
    }

    /// <summary>Moves waiting sequences into free slots, oldest (and preempted) first.</summary>
    private void Admit()
    {
        lock (_gate)
        {
            for (var node = _waiting.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Cancelled)
                {
                    _waiting.Remove(node);
                    Finished(node.Value, null);
                }
                node = next;
            }
            while (_freeSlots.Count > 0 && _waiting.First is { } first)
            {
                _waiting.RemoveFirst();
                var s = first.Value;
                s.Slot = _freeSlots.Pop();
                s.Cached = _cache.AttachPrefix(s.Slot, CollectionsMarshal.AsSpan(s.Tokens));
                _running.Add(s);
            }
        }
        Volatile.Write(ref _runningCount, _running.Count);
    }

    /// <summary>
    /// Lays out this step's rows: first one decode row per generating sequence (oldest first), then prompt chunks,
    /// within the pass's row limit and the KV budget. When the budget cannot hold a decode row for every generating
    /// sequence, the latest-admitted sequences are preempted until it can.
    /// </summary>
    private int Plan(out int segmentCount)
    {
        _running.Sort(static (a, b) => a.Arrival.CompareTo(b.Arrival));
        segmentCount = 0;
        // Budget in blocks: a decode row needs a new block only when it starts one; preempting a sequence gives back
        // the blocks no other sequence shares.
        var decoderBlocks = 0;
        foreach (var s in _running)
        {
            if (s.Tokens.Count - s.Cached == 1) decoderBlocks += _cache.BlocksNeeded(s.Slot, s.Cached + 1);
        }
        while (_cache.FreeBlocks < decoderBlocks && _running.Count > 0)
        {
            var victim = _running[^1]; // sorted: the latest admitted
            if (victim.Tokens.Count - victim.Cached == 1) decoderBlocks -= _cache.BlocksNeeded(victim.Slot, victim.Cached + 1);
            Preempt(victim);
        }
        var free = _cache.FreeBlocks;
        var rows = 0;
        foreach (var s in _running)
        {
            if (s.Tokens.Count - s.Cached != 1) continue;
            free -= _cache.BlocksNeeded(s.Slot, s.Cached + 1);
            AddSegment(s, 1, ref rows, ref segmentCount);
        }
        // Prefills (new, or resumed after preemption): chunks within what is left of the pass and of the pool.
        foreach (var s in _running)
        {
            var pending = s.Tokens.Count - s.Cached;
            if (pending <= 1) continue;
            var room = (long)(_cache.BlocksHeld(s.Slot) + free) * _cache.BlockSize - s.Cached;
            var n = (int)Math.Min(Math.Min(pending, ChunkTokens), Math.Min(_batch.MaxTokens - rows, room));
            if (n <= 0) continue;
            free -= _cache.BlocksNeeded(s.Slot, s.Cached + n);
            AddSegment(s, n, ref rows, ref segmentCount);
        }
        return rows;
    }

    private void AddSegment(ScheduledSequence s, int n, ref int rows, ref int segmentCount)
    {
        CollectionsMarshal.AsSpan(s.Tokens).Slice(s.Cached, n).CopyTo(_stepTokens.AsSpan(rows));
        var last = s.Cached + n == s.Tokens.Count;
        _segments[segmentCount] = new BatchSegment(s.Slot, rows, n, s.Cached, last ? n - 1 : n);
        _stepSequences[segmentCount] = s;
        segmentCount++;
        rows += n;
    }

    /// <summary>Drops a running sequence's cache and puts it at the front of the line to be recomputed later.</summary>
    private void Preempt(ScheduledSequence s)
    {
        Release(s);
        s.Preemptions++;
        Preemptions++;
        lock (_gate) _waiting.AddFirst(s);
    }

    /// <summary>Samples the next token from <paramref name="logits"/> and streams it; true when the sequence is done.</summary>
    private bool Advance(ScheduledSequence s, ReadOnlySpan<float> logits)
    {
        var options = s.Request.Stopping;
        var output = s.Output.Writer;
        if (s.Produced >= options.MaxTokens)
        {
            output.TryWrite(new GeneratedToken(-1, s.Stops.Flush(), 0, FinishReason.Length));
            return true;
        }
        var id = s.Request.Constraint is { } constraint ? Constrain(s, constraint, logits) : s.Sampler.Sample(logits, CollectionsMarshal.AsSpan(s.Tokens));
        _profile?.Sample();
        var logProb = s.Sampler.LastLogProb;
        var top = s.Sampler.Options.TopLogProbs > 0 ? s.Sampler.TopLogProbs.ToArray() : null;
        if (options.StopTokenIds.Contains(id))
        {
            output.TryWrite(new GeneratedToken(id, s.Stops.Flush(), logProb, FinishReason.StopToken, top));
            return true;
        }
        s.Tokens.Add(id);
        s.Produced++;
        var text = s.Stops.Append(s.Decoder.Append(id), out var stopped);
        if (stopped)
        {
            output.TryWrite(new GeneratedToken(id, text, logProb, FinishReason.StopString, top));
            return true;
        }
        if (s.Cached >= ContextLength)
        {
            output.TryWrite(new GeneratedToken(id, text + s.Stops.Flush(), logProb, FinishReason.ContextFull, top));
            return true;
        }
        if (s.Request.Constraint is { IsFinished: true })
        {
            output.TryWrite(new GeneratedToken(id, text + s.Stops.Flush(), logProb, FinishReason.ConstraintComplete, top));
            return true;
        }
        output.TryWrite(new GeneratedToken(id, text, logProb, null, top));
        if (s.Produced >= options.MaxTokens)
        {
            // The limit is known now; no need to evaluate the last token only to stop after it.
            output.TryWrite(new GeneratedToken(-1, s.Stops.Flush(), 0, FinishReason.Length));
            return true;
        }
        return false;
    }

    /// <summary>
    /// Keeps a constrained sequence on its grammar: the freely sampled token stands when the constraint allows it (the
    /// common case, and cheap); otherwise the full mask is computed and the token drawn again from the allowed ones.
    /// </summary>
    private static int Constrain(ScheduledSequence s, Constraints.ITokenConstraint constraint, ReadOnlySpan<float> logits)
    {
        // A token the constraint forces is taken without a draw.
        if (constraint.ForcedToken() is var forced and >= 0)
        {
            s.Sampler.Take(logits, forced);
            constraint.Accept(forced);
            return forced;
        }
        var id = s.Sampler.Sample(logits, CollectionsMarshal.AsSpan(s.Tokens));
        if (!constraint.Allows(id))
        {
            var mask = s.Mask ??= new ulong[(s.Sampler.VocabSize + 63) / 64];
            constraint.FillMask(mask);
            id = s.Sampler.Sample(logits, CollectionsMarshal.AsSpan(s.Tokens), mask);
        }
        constraint.Accept(id);
        return id;
    }

    private void Release(ScheduledSequence s)
    {
        _running.Remove(s);
        Volatile.Write(ref _runningCount, _running.Count);
        if (s.Slot >= 0)
        {
            _batch.Free(s.Slot);
            _freeSlots.Push(s.Slot);
            s.Slot = -1;
        }
        s.Cached = 0;
        PublishCacheUse();
    }

    private void Finish(ScheduledSequence s, Exception? error)
    {
        Release(s);
        Finished(s, error);
    }

    private static void Finished(ScheduledSequence s, Exception? error)
    {
        s.Output.Writer.TryComplete(error);
        s.Left.TrySetResult();
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _wake.Release();
        _loop.Join();
        _wake.Dispose();
    }
}
