using System.Text.Json;
using System.Text.Json.Serialization;
using Flywheel.Testing;

namespace Flywheel.Tokenizers.Tests;

/// <summary>Golden ids from llama.cpp's llama-tokenize, one JSON file per vocabulary under Fixtures/llama-tokenize.</summary>
internal static class LlamaTokenizeFixtures
{
    public static string Folder => Path.Combine(TestPaths.RepoRoot, "tests", "Flywheel.Tokenizers.Tests", "Fixtures", "llama-tokenize");

    /// <summary>Vocabularies with fixtures: the GGUF files in testdata/vocab, plus GGUFs written from tokenizer.json.</summary>
    public static readonly string[] GgufVocabularies = ["qwen2", "llama-bpe", "llama-spm", "gpt-2", "deepseek-llm"];

    /// <summary>tokenizer.json folder under testdata/hf and the llama.cpp pre-tokenizer its GGUF is written with.</summary>
    public static readonly (string Name, string Pre)[] HfVocabularies = [("smollm2", "smollm"), ("qwen3", "qwen2")];

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string PathOf(string vocabulary) => Path.Combine(Folder, $"{vocabulary}.json");

    public static FixtureFile Load(string vocabulary) =>
        JsonSerializer.Deserialize<FixtureFile>(File.ReadAllText(PathOf(vocabulary)), Json)
        ?? throw new InvalidDataException($"empty fixture {vocabulary}");

    public sealed class FixtureFile
    {
        public string Vocabulary { get; set; } = "";
        public string MadeWith { get; set; } = "";
        public string LlamaCppCommit { get; set; } = "";
        public List<FixtureCase> Cases { get; set; } = [];
    }

    public sealed class FixtureCase
    {
        public string Name { get; set; } = "";
        public string Text { get; set; } = "";
        public bool ParseSpecial { get; set; }
        public bool AddSpecial { get; set; }
        /// <summary>The ids, space-separated (one line per case keeps the files readable).</summary>
        public string Ids { get; set; } = "";

        [JsonIgnore]
        public int[] IdList => VocabTestCases.ParseIds(Ids);

        [JsonIgnore]
        public string Escaped => VocabTestVectorTests.Escape(Text.Length > 60 ? Text[..60] + "…" : Text);
    }
}
