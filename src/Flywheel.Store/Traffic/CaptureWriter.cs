using System.Collections.Concurrent;
using System.Threading.Channels;
using Flywheel.Store.Tenants;

namespace Flywheel.Store.Traffic;

/// <summary>
/// Writes captured traffic off the generation path. Records go into a bounded queue; one background task takes
/// whatever has gathered (up to <see cref="CaptureWriterOptions.MaxBatch"/>), applies each tenant's capture switch
/// and redaction, and commits the batch in one transaction (group commit: one sync for many records).
/// </summary>
/// <remarks>
/// <para>Thread-safety: <see cref="EnqueueAsync"/> and <see cref="FlushAsync"/> may be called from any thread at any
/// time; <see cref="DisposeAsync"/> once, last. Nothing is dropped: when the queue is full, <see cref="EnqueueAsync"/>
/// waits for room.</para>
/// <para>Durability: the task <see cref="EnqueueAsync"/> returns completes only after the record's batch is
/// committed, so a server that awaits it before finishing a response never loses an answered request to a crash.
/// A batch that fails is retried record by record, so one bad record fails only its own task.</para>
/// </remarks>
public sealed class CaptureWriter : IAsyncDisposable
{
    private readonly IFlywheelStore _store;
    private readonly CaptureWriterOptions _options;
    private readonly Channel<Pending> _queue;
    private readonly Task _loop;
    private readonly ConcurrentDictionary<string, (TenantSettings Settings, DateTime Expires)> _settings = new(StringComparer.Ordinal);
    private readonly Redactor _redactor;
    private long _written;
    private long _skipped;
    private long _failed;
    private long _batches;

    public CaptureWriter(IFlywheelStore store, CaptureWriterOptions? options = null, Redactor? redactor = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _options = options ?? CaptureWriterOptions.Default;
        if (_options.QueueCapacity < 1 || _options.MaxBatch < 1)
        {
            throw new ArgumentException("queue capacity and batch size must be at least 1", nameof(options));
        }
        _redactor = redactor ?? new Redactor();
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Records committed so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Records not stored because their tenant switched capture off.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>Records whose write failed (their tasks hold the error).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Records waiting in the queue now (at most the capacity; excludes the batch being written).</summary>
    public int Queued => _queue.Reader.Count;

    /// <summary>Transactions committed so far (Written / Batches is the mean batch size).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>
    /// Queues a record (waiting while the queue is full) and completes when it is durable: true when stored,
    /// false when the tenant has capture switched off. Faults with the store's error when the write fails.
    /// Cancelling only stops the wait for room; a record already queued is still written.
    /// </summary>
    public async Task<bool> EnqueueAsync(TrafficRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        TrafficIds.Validate(record.Id);
        TenantNames.Validate(record.Tenant);
        var pending = new Pending(record);
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(CaptureWriter), "the capture writer is shut down");
        }
        return await pending.Done.Task;
    }

    /// <summary>Completes when every record queued before the call has been written (or failed).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var marker = new Pending(null);
        try
        {
            await _queue.Writer.WriteAsync(marker, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            await _loop;
            return;
        }
        await marker.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops taking records, writes everything queued, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>(_options.MaxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            Pending? marker = null;
            while (batch.Count < _options.MaxBatch && reader.TryRead(out var item))
            {
                if (item.Record is null)
                {
                    marker = item;
                    break;
                }
                batch.Add(item);
            }
            if (batch.Count > 0)
            {
                await WriteBatchAsync(batch);
                batch.Clear();
            }
            marker?.Done.TrySetResult(true);
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch)
    {
        var toWrite = new List<(Pending Item, TrafficRecord Record)>(batch.Count);
        foreach (var item in batch)
        {
            try
            {
                var settings = await SettingsAsync(item.Record!.Tenant);
                if (!settings.CaptureEnabled)
                {
                    Interlocked.Increment(ref _skipped);
                    item.Done.TrySetResult(false);
                    continue;
                }
                toWrite.Add((item, settings.RedactionEnabled ? _redactor.Redact(item.Record) : item.Record));
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _failed);
                item.Done.TrySetException(e);
            }
        }
        if (toWrite.Count == 0) return;
        try
        {
            await _store.WriteTrafficAsync(toWrite.Select(w => w.Record).ToList());
            Interlocked.Add(ref _written, toWrite.Count);
            Interlocked.Increment(ref _batches);
            foreach (var (item, _) in toWrite) item.Done.TrySetResult(true);
            return;
        }
        catch when (toWrite.Count > 1)
        {
            // Fall through: find the bad record(s) by writing one at a time.
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _failed);
            toWrite[0].Item.Done.TrySetException(e);
            return;
        }
        foreach (var (item, record) in toWrite)
        {
            try
            {
                await _store.WriteTrafficAsync([record]);
                Interlocked.Increment(ref _written);
                Interlocked.Increment(ref _batches);
                item.Done.TrySetResult(true);
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _failed);
                item.Done.TrySetException(e);
            }
        }
    }

    private async ValueTask<TenantSettings> SettingsAsync(string tenant)
    {
        var now = DateTime.UtcNow;
        if (_settings.TryGetValue(tenant, out var cached) && cached.Expires > now)
        {
            return cached.Settings;
        }
        var settings = await _store.GetTenantSettingsAsync(tenant);
        _settings[tenant] = (settings, now + _options.CacheTime);
        return settings;
    }

    private sealed class Pending(TrafficRecord? record)
    {
        public TrafficRecord? Record { get; } = record;

        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
