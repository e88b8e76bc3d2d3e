namespace Flywheel.Store.Datasets;

/// <summary>The saved dataset and how it was arrived at.</summary>
/// <param name="Considered">Records of the tenant since the date.</param>
/// <param name="Matched">Of those, records the filter matched.</param>
/// <param name="Unusable">Matched records that make no training example (no answer, malformed request).</param>
/// <param name="DuplicatesRemoved">Matched records dropped as near-duplicates of one kept.</param>
public sealed record DatasetBuildResult(DatasetInfo Dataset, int Considered, int Matched, int Unusable, int DuplicatesRemoved);
