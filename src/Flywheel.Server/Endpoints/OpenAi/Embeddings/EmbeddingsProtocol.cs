namespace Flywheel.Server.Endpoints.OpenAi.Embeddings;

public sealed record EmbeddingList(string Object, IReadOnlyList<EmbeddingItem> Data, string Model, EmbeddingUsage Usage);

/// <summary><see cref="Embedding"/> is a float array, or a base64 string of little-endian float32 when asked for.</summary>
public sealed record EmbeddingItem(string Object, int Index, object Embedding);

public sealed record EmbeddingUsage(int PromptTokens, int TotalTokens);
