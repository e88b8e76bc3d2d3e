namespace Flywheel.Store.Datasets;

/// <summary>One training example: an OpenAI messages array (JSON), its split, and the record it came from (null when imported).</summary>
public sealed record DatasetExample(string MessagesJson, DatasetSplit Split, string? RecordId = null);
