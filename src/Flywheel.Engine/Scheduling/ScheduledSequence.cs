using System.Threading.Channels;
using Flywheel.Engine.Sampling;
using Flywheel.Tokenizers;

namespace Flywheel.Engine.Scheduling;

/// <summary>
/// One request inside the <see cref="BatchScheduler"/>: its tokens (prompt, then generated), how many of them its cache
/// holds, its own sampler, streaming decoder and stop-string filter, and the channel its tokens go out through.
/// Fields other than <see cref="Leave"/> and the channel reader are touched only by the scheduler's loop thread.
/// </summary>
public sealed class ScheduledSequence
{
    internal ScheduledSequence(GenerationRequest request, Sampler sampler, StreamingDecoder decoder, long arrival)
    {
        Request = request;
        Sampler = sampler;
        Decoder = decoder;
        Stops = new StopStringFilter(request.Stopping.StopStrings);
        Tokens = new List<int>(request.PromptIds.Count + Math.Min(request.Stopping.MaxTokens, 4096));
        Tokens.AddRange(request.PromptIds);
        Arrival = arrival;
    }

    public GenerationRequest Request { get; }
    internal Sampler Sampler { get; }
    internal StreamingDecoder Decoder { get; }
    internal StopStringFilter Stops { get; }
    internal List<int> Tokens { get; }                 // prompt + generated ids; the last one may not be cached yet
    internal int Cached { get; set; }                  // positions of Tokens held in the KV cache
    internal int Produced { get; set; }                // generated tokens so far
    internal int Slot { get; set; } = -1;              // KV-cache sequence, −1 while waiting or preempted
    internal long Arrival { get; }                     // admission priority: earlier first; the latest is preempted first
    internal int Preemptions { get; set; }
    internal ulong[]? Mask { get; set; }               // [n_vocab / 64] allowed tokens, only for constrained requests

    internal Channel<GeneratedToken> Output { get; } =
        Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    /// <summary>Completes once the sequence has left the scheduler and its cache is free.</summary>
    internal TaskCompletionSource Left { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private volatile bool _cancelled;
    internal bool Cancelled => _cancelled;

    public ChannelReader<GeneratedToken> Reader => Output.Reader;

    /// <summary>Asks the scheduler to drop this sequence at its next step (a client that went away).</summary>
    internal void Cancel() => _cancelled = true;

    /// <summary>Times this sequence's cache was dropped to make room and recomputed later.</summary>
    public int PreemptionCount => Preemptions;
}
