using System.Globalization;
using Flywheel.Store.Tenants;
using Flywheel.Store.Traffic;

namespace Flywheel.Store.Datasets;

/// <summary>
/// Builds a dataset from one tenant's captured traffic: filter, turn each exchange into a conversation (a correction
/// replaces the answer), drop near-duplicates (<see cref="NearDuplicates"/>), split deterministically
/// (<see cref="SplitAssigner"/>), and save. Only the named tenant's records are ever read.
/// </summary>
public static class DatasetBuilder
{
    public static async Task<DatasetBuildResult> CreateAsync(IFlywheelStore store, DatasetBuildOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        TenantNames.Validate(options.Tenant);
        DatasetNames.Validate(options.Name);
        var filter = string.IsNullOrWhiteSpace(options.Where) ? TrafficFilter.All : TrafficFilter.Parse(options.Where);
        _ = SplitAssigner.Assign("", options.TestFraction); // validates the fraction before any work
        if (await store.GetDatasetAsync(options.Tenant, options.Name, cancellationToken) is not null)
        {
            throw new StoreException($"tenant '{options.Tenant}' already has a dataset named '{options.Name}'");
        }

        var exchanges = await store.QueryExchangesAsync(options.Tenant, options.Since, cancellationToken);
        var (examples, matched, unusable, duplicates) = Build(exchanges, filter, options.TestFraction);
        string source = Describe(options);
        var info = await store.CreateDatasetAsync(new NewDataset(options.Tenant, options.Name, source, examples), cancellationToken);
        return new DatasetBuildResult(info, exchanges.Count, matched, unusable, duplicates);
    }

    /// <summary>The pure part: examples in chronological order, and the counts.</summary>
    internal static (List<DatasetExample> Examples, int Matched, int Unusable, int Duplicates) Build(
        IReadOnlyList<CapturedExchange> exchanges, TrafficFilter filter, double testFraction)
    {
        var candidates = new List<(CapturedExchange Exchange, string Messages, int Order)>();
        int matched = 0, unusable = 0;
        for (int i = 0; i < exchanges.Count; i++)
        {
            var e = exchanges[i];
            if (e.Record.Tenant != exchanges[0].Record.Tenant)
            {
                throw new InvalidOperationException("a dataset is built from one tenant's traffic");
            }
            if (!filter.Matches(e)) continue;
            matched++;
            if (ExampleMessages.From(e) is { } messages) candidates.Add((e, messages, i));
            else unusable++;
        }
        // Of a group of near-duplicates keep the most valuable: corrected first, then higher rated, then older.
        var dedupe = new NearDuplicates();
        var kept = candidates
            .OrderByDescending(c => c.Exchange.IsCorrected)
            .ThenByDescending(c => c.Exchange.Rating ?? 0)
            .ThenBy(c => c.Order)
            .Where(c => !dedupe.IsDuplicate(c.Messages))
            .OrderBy(c => c.Order)
            .Select(c => new DatasetExample(c.Messages, SplitAssigner.Assign(c.Exchange.Record.Id, testFraction), c.Exchange.Record.Id))
            .ToList();
        return (kept, matched, unusable, candidates.Count - kept.Count);
    }

    private static string Describe(DatasetBuildOptions options)
    {
        var parts = new List<string> { "traffic" };
        if (!string.IsNullOrWhiteSpace(options.Where)) parts.Add($"where {options.Where}");
        if (options.Since is { } since) parts.Add("since " + since.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        parts.Add("test fraction " + options.TestFraction.ToString(CultureInfo.InvariantCulture));
        return string.Join(", ", parts);
    }
}
