namespace Flywheel.Store.Traffic;

/// <summary>The stored spelling of <see cref="TrafficKind"/>.</summary>
public static class TrafficKinds
{
    public static string ToText(TrafficKind kind) => kind switch
    {
        TrafficKind.Chat => "chat",
        TrafficKind.Completion => "completion",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static bool TryParse(string? text, out TrafficKind kind)
    {
        switch (text?.ToLowerInvariant())
        {
            case "chat": kind = TrafficKind.Chat; return true;
            case "completion": kind = TrafficKind.Completion; return true;
            default: kind = default; return false;
        }
    }
}
