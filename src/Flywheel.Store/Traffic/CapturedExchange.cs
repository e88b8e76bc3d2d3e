using Flywheel.Store.Feedback;

namespace Flywheel.Store.Traffic;

/// <summary>A record with a summary of its feedback, as dataset building needs it.</summary>
/// <param name="Rating">The latest rating given (1..5), or null when never rated.</param>
/// <param name="Correction">The latest correction given, or null when never corrected.</param>
public sealed record CapturedExchange(TrafficRecord Record, int? Rating, Correction? Correction)
{
    public bool IsCorrected => Correction is not null;
}
