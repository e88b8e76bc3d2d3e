namespace Flywheel.Store.Feedback;

/// <summary>Feedback as a client sends it. At least one of rating, correction or comment must be present.</summary>
/// <param name="RecordId">The response id the feedback is about.</param>
/// <param name="Rating">1..5; see <see cref="FeedbackRatings"/> for "up" (5) and "down" (1).</param>
public sealed record FeedbackInput(string RecordId, int? Rating = null, Correction? Correction = null, string? Comment = null);
