using System.Text.Json.Nodes;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Tokenizers.Tests.ChatTemplates;

/// <summary>
/// Every template in Fixtures/templates.json over every conversation in Fixtures/conversations must render
/// byte-identically to transformers' apply_chat_template (goldens from Fixtures/make_goldens.py), or fail
/// where jinja2 fails, with the same message.
/// </summary>
public class ChatTemplateGoldenTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var entry in GoldenFixtures.Manifest)
        {
            foreach (var conversation in GoldenFixtures.ConversationNames)
            {
                data.Add((string)entry!["name"]!, conversation);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_byte_identically_to_transformers(string templateName, string conversation)
    {
        var entry = GoldenFixtures.TemplateEntry(templateName);
        var template = ChatTemplate.Parse(GoldenFixtures.TemplateSource(entry));
        var context = ChatTemplateContext.FromJson(GoldenFixtures.ConversationJson(conversation));
        context.BosToken = (string?)entry["bos_token"];
        context.EosToken = (string?)entry["eos_token"];
        context.Clock = () => GoldenFixtures.FixedNow;

        var expectedDir = Path.Combine(GoldenFixtures.FixtureDir, "expected", templateName);
        var textPath = Path.Combine(expectedDir, conversation + ".txt");
        var errorPath = Path.Combine(expectedDir, conversation + ".error.json");
        if (File.Exists(textPath))
        {
            var expected = File.ReadAllBytes(textPath);
            var actual = System.Text.Encoding.UTF8.GetBytes(template.Render(context));
            if (!expected.AsSpan().SequenceEqual(actual))
            {
                Assert.Equal(System.Text.Encoding.UTF8.GetString(expected), System.Text.Encoding.UTF8.GetString(actual));
                Assert.Fail("outputs differ in bytes but not as text");
            }

            return;
        }

        Assert.True(File.Exists(errorPath), $"no golden for {templateName}/{conversation}");
        var error = JsonNode.Parse(File.ReadAllText(errorPath))!;
        var ex = Assert.Throws<ChatTemplateException>(() => template.Render(context));
        Assert.Equal((string)error["message"]!, ex.Reason);
        Assert.Equal((string)error["type"]! == "TemplateError", ex.RaisedByTemplate);
    }
}
