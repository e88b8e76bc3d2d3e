using Microsoft.Extensions.AI;

namespace Flywheel.Engine;

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over an <see cref="InferenceEngine"/>: each string is tokenized
/// as raw text (BOS as the model's metadata says) and embedded by <see cref="InferenceEngine.EmbedAsync"/>, the path the
/// server's /v1/embeddings uses. Vectors are unit-length [n_embd]. Thread-safe. Does not own the engine.
/// </summary>
public sealed class EngineEmbeddingGenerator(InferenceEngine engine) : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly EmbeddingGeneratorMetadata _metadata = new("flywheel", null, engine.Model.Name, engine.EmbeddingLength);

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (options?.Dimensions is { } d && d != engine.EmbeddingLength)
        {
            throw new ArgumentException($"this model's embeddings have {engine.EmbeddingLength} dimensions, not {d}", nameof(options));
        }
        var inputs = values.Select(v => (IReadOnlyList<int>)engine.Model.TokenizeRaw(v)).ToList();
        var vectors = await engine.EmbedAsync(inputs, cancellationToken).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = engine.Model.Name, CreatedAt = now }));
        var tokens = inputs.Sum(i => i.Count);
        result.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        return result;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }
}
