using System.Text.Json.Nodes;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Tokenizers.Tests.ChatTemplates;

/// <summary>
/// Small templates covering one interpreter feature each (Fixtures/snippets.json), checked against what
/// jinja2 rendered for them (Fixtures/expected/snippets.json), including its error messages.
/// </summary>
public class ChatTemplateSnippetTests
{
    private static readonly Lazy<Dictionary<string, (JsonObject Snippet, JsonObject Expected)>> All = new(Load);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in All.Value.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Matches_jinja2(string name)
    {
        var (snippet, expected) = All.Value[name];
        var variables = ((JsonObject)snippet["vars"]!).ToDictionary(kv => kv.Key, kv => (object?)kv.Value?.DeepClone());

        string Render() => ChatTemplate.Parse((string)snippet["template"]!).Render(variables, () => GoldenFixtures.FixedNow);

        if (expected["output"] is JsonNode output)
        {
            Assert.Equal((string)output!, Render());
            return;
        }

        var ex = Assert.Throws<ChatTemplateException>(Render);
        Assert.Equal((string)expected["message"]!, ex.Reason);
        Assert.Equal((string)expected["error_type"]! == "TemplateError", ex.RaisedByTemplate);
    }

    private static Dictionary<string, (JsonObject, JsonObject)> Load()
    {
        var snippets = JsonNode.Parse(File.ReadAllText(Path.Combine(GoldenFixtures.FixtureDir, "snippets.json")))!.AsArray();
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(GoldenFixtures.FixtureDir, "expected", "snippets.json")))!.AsArray();
        return snippets.Zip(expected).ToDictionary(
            pair => (string)pair.First!["name"]!,
            pair => ((JsonObject)pair.First!, (JsonObject)pair.Second!));
    }
}
