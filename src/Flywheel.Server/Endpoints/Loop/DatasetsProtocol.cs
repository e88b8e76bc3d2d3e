using System.Text.Json.Nodes;

namespace Flywheel.Server.Endpoints.Loop;

public sealed record DatasetList(string Object, IReadOnlyList<DatasetEntry> Data);

/// <summary>A dataset's description; <see cref="Examples"/> is set only when one dataset is asked for.</summary>
public sealed record DatasetEntry(string Object, string Name, string Source, int TrainCount, int TestCount, int ExampleCount, long CreatedAt, IReadOnlyList<DatasetExampleEntry>? Examples);

/// <summary>One example in the OpenAI chat fine-tuning shape (<c>messages</c>), with its split and source record.</summary>
public sealed record DatasetExampleEntry(JsonNode? Messages, string Split, string? RecordId);
