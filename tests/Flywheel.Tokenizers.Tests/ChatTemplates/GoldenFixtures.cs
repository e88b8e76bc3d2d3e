using System.Text.Json.Nodes;

namespace Flywheel.Tokenizers.Tests.ChatTemplates;

/// <summary>Locates the golden fixtures made by Fixtures/make_goldens.py (and the shared templates they name).</summary>
internal static class GoldenFixtures
{
    /// <summary>The clock make_goldens.py pins strftime_now to.</summary>
    public static readonly DateTimeOffset FixedNow = new(2025, 3, 14, 9, 26, 53, TimeSpan.Zero);

    private static readonly Lazy<string> Root = new(FindRepoRoot);

    public static string RepoRoot => Root.Value;

    public static string FixtureDir => Path.Combine(RepoRoot, "tests", "Flywheel.Tokenizers.Tests", "ChatTemplates", "Fixtures");

    public static JsonArray Manifest => (JsonArray)JsonNode.Parse(File.ReadAllText(Path.Combine(FixtureDir, "templates.json")))!;

    public static IEnumerable<string> ConversationNames =>
        Directory.GetFiles(Path.Combine(FixtureDir, "conversations"), "*.json")
            .Select(Path.GetFileNameWithoutExtension)
            .Order(StringComparer.Ordinal)!;

    public static JsonObject TemplateEntry(string name) =>
        Manifest.Select(x => x!.AsObject()).Single(x => (string)x["name"]! == name);

    public static string TemplateSource(JsonObject entry)
    {
        var path = Path.GetFullPath(Path.Combine(RepoRoot, (string)entry["source"]!));
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"chat template fixture missing: {path} (the shared test data lives next to the repository)", path);
        }

        var text = File.ReadAllText(path);
        return path.EndsWith(".json", StringComparison.Ordinal)
            ? (string)JsonNode.Parse(text)!["chat_template"]!
            : text;
    }

    public static string ConversationJson(string name) =>
        File.ReadAllText(Path.Combine(FixtureDir, "conversations", name + ".json"));

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flywheel.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("could not find Flywheel.slnx above " + AppContext.BaseDirectory);
    }
}
