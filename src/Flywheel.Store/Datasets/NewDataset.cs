namespace Flywheel.Store.Datasets;

/// <summary>A dataset to save. Every example's split must be Train or Test.</summary>
public sealed record NewDataset(string Tenant, string Name, string Source, IReadOnlyList<DatasetExample> Examples);
