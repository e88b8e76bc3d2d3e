namespace Flywheel.Store.Traffic;

/// <summary>
/// Record ids double as the OpenAI response ids the client sees: <c>chatcmpl-&lt;32 hex&gt;</c> for chat and
/// <c>cmpl-&lt;32 hex&gt;</c> for completions. The hex is a version-7 GUID, so ids sort by creation time and
/// stay unique across replicas without coordination.
/// </summary>
public static class TrafficIds
{
    public const int MaxLength = 128;

    public static string New(TrafficKind kind) =>
        (kind == TrafficKind.Chat ? "chatcmpl-" : "cmpl-") + Guid.CreateVersion7().ToString("N");

    /// <summary>Throws <see cref="ArgumentException"/> unless the id is 1..128 printable ASCII characters.</summary>
    public static string Validate(string? id, string parameterName = "id")
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength || !id.All(c => c > ' ' && c < 127))
        {
            throw new ArgumentException("a record id must be 1 to 128 printable ASCII characters", parameterName);
        }
        return id;
    }
}
