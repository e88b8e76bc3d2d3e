namespace Flywheel.Store.Feedback;

/// <summary>What became of feedback sent to <see cref="IFlywheelStore.AddFeedbackAsync"/>.</summary>
public enum FeedbackOutcome
{
    /// <summary>Committed: it survives a crash from now on.</summary>
    Stored,

    /// <summary>No record with that id belongs to the tenant (unknown, or another tenant's: the same answer on purpose).</summary>
    UnknownRecord,
}
