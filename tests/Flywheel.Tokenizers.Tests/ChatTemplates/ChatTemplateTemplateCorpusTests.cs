using System.Text.Json.Nodes;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Tokenizers.Tests.ChatTemplates;

/// <summary>
/// Random templates mixing text, whitespace-control signs and statements (Fixtures/template_corpus.json from
/// make_template_corpus.py) must render byte for byte as jinja2 does with trim_blocks and lstrip_blocks.
/// </summary>
public class ChatTemplateTemplateCorpusTests
{
    [Fact]
    public void Matches_jinja2_on_random_templates()
    {
        var corpus = JsonNode.Parse(File.ReadAllText(Path.Combine(GoldenFixtures.FixtureDir, "template_corpus.json")))!;
        var variables = ((JsonObject)corpus["vars"]!).ToDictionary(kv => kv.Key, kv => (object?)kv.Value?.DeepClone());
        var failures = new List<string>();
        var cases = corpus["cases"]!.AsArray();
        foreach (var item in cases)
        {
            var template = (string)item!["template"]!;
            string? actual = null;
            string? error = null;
            try
            {
                actual = ChatTemplate.Parse(template).Render(variables);
            }
            catch (ChatTemplateException e)
            {
                error = e.Reason;
            }

            if (item["output"] is JsonNode output)
            {
                if (actual != (string)output!)
                {
                    failures.Add($"{Escape(template)}\n  jinja2: {Escape((string)output!)}\n  ours:   {(actual is null ? "error: " + error : Escape(actual))}");
                }
            }
            else if (error is null)
            {
                failures.Add($"{Escape(template)}\n  jinja2: {(string)item["error"]!}\n  ours:   {Escape(actual!)}");
            }
        }

        Assert.True(cases.Count >= 500, "corpus too small");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} differ:\n" + string.Join("\n", failures.Take(10)));
    }

    private static string Escape(string s) => s.Replace("\n", "\\n").Replace("\t", "\\t");
}
