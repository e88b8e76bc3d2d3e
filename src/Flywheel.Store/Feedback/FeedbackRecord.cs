namespace Flywheel.Store.Feedback;

/// <summary>Stored feedback.</summary>
public sealed record FeedbackRecord(string Id, string Tenant, string RecordId, int? Rating, Correction? Correction, string? Comment, DateTimeOffset CreatedAt);
