namespace Flywheel.Store.Datasets;

/// <summary>A stored dataset's description. <see cref="Source"/> says how it was made (filter, since, import file).</summary>
public sealed record DatasetInfo(string Tenant, string Name, string Source, int TrainCount, int TestCount, DateTimeOffset CreatedAt)
{
    public int ExampleCount => TrainCount + TestCount;
}
