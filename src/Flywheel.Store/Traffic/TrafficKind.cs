namespace Flywheel.Store.Traffic;

/// <summary>Which endpoint a record came from; stored as "chat" or "completion".</summary>
public enum TrafficKind
{
    /// <summary>/v1/chat/completions: the request is a messages array.</summary>
    Chat,

    /// <summary>/v1/completions: the request is a prompt.</summary>
    Completion,
}
