namespace Flywheel.Engine.Scheduling;

/// <summary>Every session is busy and the waiting line is at its limit; the caller should retry later (HTTP 429).</summary>
public sealed class QueueFullException(int limit)
    : Exception($"the server is busy: {limit} requests are already waiting; retry shortly");
