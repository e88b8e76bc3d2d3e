using System.Text.Json;
using Flywheel.Testing;

namespace Flywheel.Models.Tests.Fixtures;

/// <summary>
/// ../shared/models/tiny/reference.json: llama.cpp's greedy ids, top-10 logits after the prompt and perplexity for the
/// tiny synthetic models (see the README beside it for how it was made).
/// </summary>
internal static class LlamaCppReference
{
    public sealed record Prompt(string Text, int[] PromptIds, int[] Ids, (int Id, float Logit)[] Top10, float Gap);

    public sealed record ModelEntry(string File, Prompt[] Prompts, double PerplexityCtx128);

    private static readonly Lazy<Dictionary<string, ModelEntry>> Entries = new(Read);

    public static string ModelPath(string file) => TestPaths.SharedFile("models", "tiny", file);

    public static ModelEntry Get(string file) => Entries.Value[file];

    public static IEnumerable<string> Files => Entries.Value.Keys.Order(StringComparer.Ordinal);

    private static Dictionary<string, ModelEntry> Read()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "tiny", "reference.json")));
        var result = new Dictionary<string, ModelEntry>();
        foreach (var m in doc.RootElement.GetProperty("models").EnumerateObject())
        {
            var prompts = m.Value.GetProperty("greedy").EnumerateArray().Select(g => new Prompt(
                g.GetProperty("prompt").GetString()!,
                g.GetProperty("prompt_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                g.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                g.GetProperty("top10_after_prompt").EnumerateArray().Select(p => (p[0].GetInt32(), p[1].GetSingle())).ToArray(),
                g.GetProperty("top1_top2_gap").GetSingle())).ToArray();
            result[m.Name] = new ModelEntry(m.Name, prompts, m.Value.GetProperty("perplexity_ctx128").GetDouble());
        }
        return result;
    }
}
