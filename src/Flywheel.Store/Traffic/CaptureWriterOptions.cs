namespace Flywheel.Store.Traffic;

/// <summary>Sizes for <see cref="CaptureWriter"/>.</summary>
/// <param name="QueueCapacity">Records waiting to be written before <see cref="CaptureWriter.EnqueueAsync"/> waits
/// (backpressure). Large enough to absorb a burst at full serving speed, small enough to bound memory.</param>
/// <param name="MaxBatch">Most records committed in one transaction.</param>
/// <param name="SettingsCacheTime">How long a tenant's capture and redaction switches are cached.</param>
public sealed record CaptureWriterOptions(int QueueCapacity = 4096, int MaxBatch = 256, TimeSpan? SettingsCacheTime = null)
{
    public static CaptureWriterOptions Default { get; } = new();

    internal TimeSpan CacheTime => SettingsCacheTime ?? TimeSpan.FromSeconds(5);
}
