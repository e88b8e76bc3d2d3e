namespace Flywheel.Store.Datasets;

/// <summary>What to build: which tenant's traffic, the filter (<see cref="TrafficFilter"/> syntax; null takes all),
/// records created at or after <see cref="Since"/>, and the fraction that goes to the test split.</summary>
public sealed record DatasetBuildOptions(string Tenant, string Name, string? Where = null, DateTimeOffset? Since = null, double TestFraction = 0);
