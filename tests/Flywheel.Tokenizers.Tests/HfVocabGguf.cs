using System.Text.Json;
using Flywheel.Formats.Gguf;
using Flywheel.Testing;

namespace Flywheel.Tokenizers.Tests;

/// <summary>
/// Writes a vocab-only GGUF file from a Hugging Face tokenizer.json, so llama.cpp's llama-tokenize can produce
/// reference ids for tokenizers that have no GGUF vocabulary in testdata (SmolLM2, Qwen3). Token types follow
/// convert_hf_to_gguf.py: vocabulary entries NORMAL, special added tokens CONTROL, other added tokens
/// USER_DEFINED, holes in the id range [PADn] USER_DEFINED. The model hyperparameters (which a vocab-only load
/// still reads) are copied from the Qwen2 vocabulary file.
/// </summary>
internal static class HfVocabGguf
{
    public static void Write(string tokenizerJsonPath, string pre, string outputPath)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath));
        var root = json.RootElement;
        var model = root.GetProperty("model");
        var byId = new SortedDictionary<int, (string Text, int Type)>();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
        {
            byId[entry.Value.GetInt32()] = (entry.Name, 1);
        }
        foreach (var added in root.GetProperty("added_tokens").EnumerateArray())
        {
            bool special = added.GetProperty("special").GetBoolean();
            byId[added.GetProperty("id").GetInt32()] = (added.GetProperty("content").GetString()!, special ? 3 : 4);
        }
        int size = byId.Keys.Max() + 1;
        var tokens = new string[size];
        var types = new int[size];
        for (int id = 0; id < size; id++)
        {
            (tokens[id], types[id]) = byId.TryGetValue(id, out var t) ? t : ($"[PAD{id}]", 4);
        }
        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : $"{m[0].GetString()} {m[1].GetString()}")
            .ToArray();

        var writer = new GgufWriter();
        using (var template = GgufFile.Open(TestPaths.SharedFile("testdata", "vocab", "ggml-vocab-qwen2.gguf")))
        {
            foreach (var key in template.MetadataKeys.Where(k => !k.StartsWith("tokenizer.", StringComparison.Ordinal)))
            {
                writer.Set(key, template.Metadata[key]);
            }
        }
        writer.Set(GgufKeys.Name, Path.GetFileName(Path.GetDirectoryName(tokenizerJsonPath)!));
        writer.Set(GgufKeys.TokenizerModel, "gpt2");
        writer.Set(GgufKeys.TokenizerPre, pre);
        writer.Set(GgufKeys.TokenizerTokens, GgufValue.Array(GgufValueType.String, tokens));
        writer.Set(GgufKeys.TokenizerTokenType, GgufValue.Array(GgufValueType.Int32, types));
        writer.Set(GgufKeys.TokenizerMerges, GgufValue.Array(GgufValueType.String, merges));
        writer.Set(GgufKeys.TokenizerAddBos, false);
        writer.Save(outputPath);
    }
}
