using System.Runtime.CompilerServices;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// A fixed set of worker threads for kernel jobs: the caller publishes a job (a function pointer, a pointer to its
/// context and a chunk count), takes chunks itself alongside the workers, and returns when every chunk is done (a
/// worker the OS has not scheduled does not hold the job up; chunks are claimed with the job's generation so a late
/// worker cannot run a newer job's chunk with an older job's context). Workers spin briefly between jobs (a decode step issues matmuls microseconds apart) and then block,
/// so an idle process costs no CPU. <see cref="Run"/> allocates nothing.
/// Thread-safety: one job at a time; concurrent callers are serialized by a lock.
/// </summary>
public sealed unsafe class KernelThreadPool : IDisposable
{
    // ~50 µs of spinning before a worker blocks: long enough to bridge the element-wise ops between two matmuls.
    private const int SpinIterations = 2000;

    private readonly Thread[] _workers;
    private readonly object _sleep = new();
    private readonly Lock _gate = new();
    private volatile bool _stopping;
    private int _generation;
    private int _sleepers;
    private long _nextChunk;                // generation << 32 | next chunk index: a late worker cannot claim a newer job's chunk
    private int _completed;
    private int _chunkCount;
    private delegate*<void*, int, void> _function;
    private void* _context;

    /// <param name="threads">Threads that run a job, the caller included (at least 1).</param>
    public KernelThreadPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _workers = new Thread[threads - 1];
        for (var i = 0; i < _workers.Length; i++)
        {
            var index = i;
            _workers[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"flywheel-kernel-{i + 1}" };
            _workers[i].Start();
        }
    }

    public int Threads { get; }

    /// <summary>Runs <paramref name="function"/>(context, c) for c in [0, chunks) across the pool and returns when all are done.</summary>
    public void Run(delegate*<void*, int, void> function, void* context, int chunks)
    {
        if (chunks <= 0) return;
        if (_workers.Length == 0 || chunks == 1)
        {
            for (var c = 0; c < chunks; c++) function(context, c);
            return;
        }
        lock (_gate)
        {
            var generation = _generation + 1;
            Interlocked.Exchange(ref _nextChunk, (long)generation << 32);
            _function = function;
            _context = context;
            _chunkCount = chunks;
            Volatile.Write(ref _completed, 0);
            Interlocked.Exchange(ref _generation, generation);
            if (Volatile.Read(ref _sleepers) > 0)
            {
                lock (_sleep) Monitor.PulseAll(_sleep);
            }
            Work(generation, function, context, chunks);
            // Wait for chunks, not workers: a descheduled worker that never joined does not hold the job up.
            var spinner = new SpinWait();
            while (Volatile.Read(ref _completed) != chunks) spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Work(int generation, delegate*<void*, int, void> function, void* context, int chunks)
    {
        while (true)
        {
            var current = Volatile.Read(ref _nextChunk);
            if ((int)(current >> 32) != generation) return;
            var c = (int)current;
            if (c >= chunks) return;
            if (Interlocked.CompareExchange(ref _nextChunk, current + 1, current) != current) continue;
            function(context, c);
            Interlocked.Increment(ref _completed);
        }
    }

    private void WorkerLoop(int index)
    {
        var seen = 0;
        while (true)
        {
            var spins = 0;
            int generation;
            while ((generation = Volatile.Read(ref _generation)) == seen)
            {
                if (_stopping) return;
                if (spins++ < SpinIterations)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                // Dekker-style hand-off: the caller bumps the generation then reads the sleeper count; we raise the
                // count then re-read the generation under the lock the caller pulses under, so no wake-up is lost.
                lock (_sleep)
                {
                    Interlocked.Increment(ref _sleepers);
                    while (Volatile.Read(ref _generation) == seen && !_stopping) Monitor.Wait(_sleep);
                    Interlocked.Decrement(ref _sleepers);
                }
                spins = 0;
            }
            if (_stopping) return;
            seen = generation;
            Work(generation, _function, _context, _chunkCount);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        lock (_sleep) Monitor.PulseAll(_sleep);
        foreach (var w in _workers) w.Join();
    }
}
