namespace Flywheel.Server.Endpoints.Loop;

/// <summary>The reply to <c>POST /v1/feedback</c>: the stored feedback, with its rating on the 1-5 scale.</summary>
public sealed record FeedbackReceipt(string Id, string Object, string RecordId, int? Rating, bool Corrected, string? Comment, long CreatedAt);
