namespace Flywheel.Store.Feedback;

/// <summary>The outcome of storing feedback; <see cref="Feedback"/> is set when stored.</summary>
public sealed record FeedbackResult(FeedbackOutcome Outcome, FeedbackRecord? Feedback);
