using Flywheel.Testing;
using Microsoft.Extensions.AI;

namespace Flywheel.Engine.Tests;

public class EngineEmbeddingGeneratorTests
{
    private static InferenceEngine Stories() =>
        new(LoadedModel.Load("stories260K", TestPaths.SharedFile("models", "stories260K", "stories260K.gguf")), parallel: 1, contextLength: 128);

    [Fact]
    public async Task Embeddings_are_unit_length_per_input_in_order()
    {
        using var engine = Stories();
        IEmbeddingGenerator<string, Embedding<float>> generator = new EngineEmbeddingGenerator(engine);
        var result = await generator.GenerateAsync(["Lily went to the park.", "Tom had a red ball.", "Lily went to the park."]);
        Assert.Equal(3, result.Count);
        foreach (var e in result)
        {
            Assert.Equal(64, e.Vector.Length);
            Assert.Equal(1.0, Math.Sqrt(e.Vector.ToArray().Sum(x => (double)x * x)), 4);
        }
        Assert.Equal(result[0].Vector.ToArray(), result[2].Vector.ToArray());
        Assert.NotEqual(result[0].Vector.ToArray(), result[1].Vector.ToArray());
        Assert.Equal(64, generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelDimensions);
        Assert.True(result.Usage!.InputTokenCount > 0);
    }

    [Fact]
    public async Task Input_longer_than_the_context_is_refused()
    {
        using var engine = Stories();
        var generator = new EngineEmbeddingGenerator(engine);
        var longText = string.Concat(Enumerable.Repeat("The little dog ran. ", 100));
        await Assert.ThrowsAsync<ContextLengthExceededException>(() => generator.GenerateAsync([longText]));
    }
}
