using System.Runtime.CompilerServices;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// A fixed set of worker threads for kernel jobs: the caller publishes a job (a function pointer, a pointer to its
/// context and a chunk count), takes chunks itself alongside the workers, and returns when every worker has reported
/// the job done. Workers spin briefly between jobs (a decode step issues matmuls microseconds apart) and then block,
/// so an idle process costs no CPU. <see cref="Run"/> allocates nothing.
/// Thread-safety: one job at a time; concurrent callers are serialized by a lock.
/// </summary>
public sealed unsafe class KernelThreadPool : IDisposable
{
    // ~50 µs of spinning before a worker blocks: long enough to bridge the element-wise ops between two matmuls.
    private const int SpinIterations = 2000;

    private readonly Thread[] _workers;
    private readonly object _sleep = new();
    private readonly int[] _done;           // [workers] last generation each worker finished, padded apart
    private readonly Lock _gate = new();
    private volatile bool _stopping;
    private int _generation;
    private int _sleepers;
    private int _nextChunk;
    private int _chunkCount;
    private delegate*<void*, int, void> _function;
    private void* _context;

    /// <param name="threads">Threads that run a job, the caller included (at least 1).</param>
    public KernelThreadPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _workers = new Thread[threads - 1];
        _done = new int[(threads - 1) * 16 + 16];
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
            _function = function;
            _context = context;
            _chunkCount = chunks;
            Volatile.Write(ref _nextChunk, 0);
            var generation = Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleepers) > 0)
            {
                lock (_sleep) Monitor.PulseAll(_sleep);
            }
            Work(function, context, chunks);
            for (var i = 0; i < _workers.Length; i++)
            {
                var spinner = new SpinWait();
                while (Volatile.Read(ref _done[(i + 1) * 16]) != generation) spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Work(delegate*<void*, int, void> function, void* context, int chunks)
    {
        while (true)
        {
            var c = Interlocked.Increment(ref _nextChunk) - 1;
            if (c >= chunks) return;
            function(context, c);
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
            Work(_function, _context, _chunkCount);
            Volatile.Write(ref _done[(index + 1) * 16], generation);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        lock (_sleep) Monitor.PulseAll(_sleep);
        foreach (var w in _workers) w.Join();
    }
}
