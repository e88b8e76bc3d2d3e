using System.Text.Json;
using Flywheel.Engine.Sampling;
using Flywheel.Models;
using Flywheel.Testing;

namespace Flywheel.Engine.Tests;

/// <summary>The generation loop over the tiny llama model, whose greedy ids llama.cpp recorded in reference.json.</summary>
public sealed class GenerationLoopTests
{
    private static (int[] Prompt, int[] Ids) Reference()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "tiny", "reference.json")));
        var g = doc.RootElement.GetProperty("models").GetProperty("tiny-llama-f16.gguf").GetProperty("greedy")[0];
        return (g.GetProperty("prompt_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            g.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray());
    }

    private static GenerationResult Run(GenerationOptions options)
    {
        using var model = Model.Load(TestPaths.SharedFile("models", "tiny", "tiny-llama-f16.gguf"));
        var loop = new GenerationLoop(model.CreateSession(new SessionOptions { ContextLength = 64 }),
            new Sampler(model.Config.VocabSize, SamplingOptions.Greedy), id => $"[{id}]");
        return loop.Run(Reference().Prompt, options);
    }

    [Fact]
    public void Greedy_generation_reproduces_llama_cpp_and_stops_at_max_tokens()
    {
        var result = Run(new GenerationOptions { MaxTokens = 12 });
        Assert.Equal(FinishReason.Length, result.Finish);
        Assert.Equal(Reference().Ids.Take(12), result.TokenIds);
        Assert.Equal(string.Concat(result.TokenIds.Select(i => $"[{i}]")), result.Text);
    }

    [Fact]
    public void Stop_token_ends_generation_without_the_token()
    {
        var ids = Reference().Ids;
        var result = Run(new GenerationOptions { StopTokenIds = new HashSet<int> { ids[3] } });
        Assert.Equal(FinishReason.StopToken, result.Finish);
        Assert.Equal(ids.Take(3), result.TokenIds);
    }

    [Fact]
    public void Stop_string_cuts_the_text_before_the_match()
    {
        var ids = Reference().Ids;
        // The stop string spans the end of token 2 and the start of token 3, so it is held back then cut.
        var stop = $"{ids[2]}][{ids[3]}";
        var result = Run(new GenerationOptions { StopStrings = [stop] });
        Assert.Equal(FinishReason.StopString, result.Finish);
        Assert.Equal($"[{ids[0]}][{ids[1]}][", result.Text);
    }

    [Fact]
    public void Full_context_ends_generation()
    {
        var result = Run(new GenerationOptions { MaxTokens = 1000 });
        Assert.Equal(FinishReason.ContextFull, result.Finish);
        // Every position gets evaluated; the token sampled from the last position's logits is returned but never fed back.
        Assert.Equal(64 - Reference().Prompt.Length + 1, result.TokenIds.Count);
    }
}
