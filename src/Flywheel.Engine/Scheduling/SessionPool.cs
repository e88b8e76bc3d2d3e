using Flywheel.Models;

namespace Flywheel.Engine.Scheduling;

/// <summary>
/// A fixed set of <see cref="ModelSession"/>s, each with its own KV cache, handed out one request at a time.
/// Requests beyond the free sessions wait in line, up to <see cref="QueueLimit"/>; past that
/// <see cref="RentAsync"/> throws <see cref="QueueFullException"/> at once rather than letting latency grow
/// without bound. Thread-safe.
/// </summary>
public sealed class SessionPool
{
    private readonly Lock _gate = new();
    private readonly Stack<ModelSession> _free = new();
    private readonly LinkedList<TaskCompletionSource<ModelSession>> _waiting = new();

    public SessionPool(Model model, int sessions, int queueLimit, SessionOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sessions, 1);
        for (var i = 0; i < sessions; i++) _free.Push(model.CreateSession(options));
        Size = sessions;
        QueueLimit = queueLimit;
        ContextLength = _free.Peek().ContextLength;
    }

    public int Size { get; }
    public int QueueLimit { get; }
    public int ContextLength { get; }

    /// <summary>Requests waiting for a session right now.</summary>
    public int Waiting
    {
        get { lock (_gate) return _waiting.Count; }
    }

    /// <summary>Sessions in use right now.</summary>
    public int Busy
    {
        get { lock (_gate) return Size - _free.Count; }
    }

    public async Task<ModelSession> RentAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<ModelSession> waiter;
        LinkedListNode<TaskCompletionSource<ModelSession>> node;
        lock (_gate)
        {
            if (_free.TryPop(out var session)) return session;
            if (_waiting.Count >= QueueLimit) throw new QueueFullException(QueueLimit);
            waiter = new TaskCompletionSource<ModelSession>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiting.AddLast(waiter);
        }
        using (cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                if (node.List is not null) _waiting.Remove(node);
            }
            waiter.TrySetCanceled(cancellationToken);
        }))
        {
            return await waiter.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Returns a session; its cache is cleared so the next request starts from nothing.</summary>
    public void Return(ModelSession session)
    {
        session.Reset();
        while (true)
        {
            TaskCompletionSource<ModelSession>? next;
            lock (_gate)
            {
                if (_waiting.First is not { } first)
                {
                    _free.Push(session);
                    return;
                }
                next = first.Value;
                _waiting.RemoveFirst();
            }
            // A waiter cancelled between dequeue and hand-off refuses the session; offer it to the next one.
            if (next.TrySetResult(session)) return;
        }
    }
}
