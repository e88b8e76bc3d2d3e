using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Tokenizers.Tests.ChatTemplates;

/// <summary>
/// 2000 random expressions (Fixtures/expression_corpus.json from make_expression_corpus.py) must render as
/// jinja2 renders them, and fail where it fails. Error wording may differ; object addresses are ignored.
/// </summary>
public partial class ChatTemplateExpressionCorpusTests
{
    // Known differences, each a corner no chat template relies on.
    private static readonly Dictionary<string, string> KnownDeviations = new()
    {
        // Python's ** on a negative base and a fractional exponent makes a complex number.
        ["{{ (((m if '中文' else c) ** 0.5) > 0.5) }}"] = "complex numbers",
    };

    [Fact]
    public void Matches_jinja2_on_random_expressions()
    {
        var corpus = JsonNode.Parse(File.ReadAllText(Path.Combine(GoldenFixtures.FixtureDir, "expression_corpus.json")))!;
        var variables = ((JsonObject)corpus["vars"]!).ToDictionary(kv => kv.Key, kv => (object?)kv.Value?.DeepClone());
        var failures = new List<string>();
        var cases = corpus["cases"]!.AsArray();
        foreach (var item in cases)
        {
            var template = (string)item!["template"]!;
            if (KnownDeviations.ContainsKey(template))
            {
                continue;
            }

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
                var expected = Address().Replace((string)output!, "at 0x");
                if (actual is null || Address().Replace(actual, "at 0x") != expected)
                {
                    failures.Add($"{template}\n  jinja2: {expected}\n  ours:   {actual ?? "error: " + error}");
                }
            }
            else if (error is null)
            {
                failures.Add($"{template}\n  jinja2: {(string)item["error"]!}\n  ours:   {actual}");
            }
        }

        Assert.True(cases.Count >= 1000, "corpus too small");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} differ:\n" + string.Join("\n", failures.Take(20)));
    }

    [GeneratedRegex("at 0x[0-9a-fA-F]+", RegexOptions.IgnoreCase)]
    private static partial Regex Address();
}
