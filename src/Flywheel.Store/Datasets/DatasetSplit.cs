namespace Flywheel.Store.Datasets;

/// <summary>Which part of a dataset: stored per example as "train" or "test"; <see cref="All"/> selects both.</summary>
public enum DatasetSplit
{
    All,
    Train,
    Test,
}
