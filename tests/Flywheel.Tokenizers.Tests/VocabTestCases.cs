using System.Text;
using Flywheel.Testing;

namespace Flywheel.Tokenizers.Tests;

/// <summary>
/// Reads llama.cpp's vocabulary test files (testdata/vocab/*.inp and *.out) the way its test-tokenizer-0 does:
/// the .inp text is cut at every "\n__ggml_vocab_test__\n" (the file ends with one, so there is no empty last
/// case), and line i of the .out file holds the ids of case i, space-separated, without BOS.
/// </summary>
internal static class VocabTestCases
{
    public const string Separator = "\n__ggml_vocab_test__\n";

    public static string VocabPath(string name) => TestPaths.SharedFile("testdata", "vocab", $"ggml-vocab-{name}.gguf");

    public static IReadOnlyList<(string Text, int[] Ids)> Load(string name)
    {
        string input = File.ReadAllText(VocabPath(name) + ".inp", Encoding.UTF8);
        var texts = new List<string>();
        int pos = 0;
        while (pos < input.Length)
        {
            int next = input.IndexOf(Separator, pos, StringComparison.Ordinal);
            if (next < 0)
            {
                texts.Add(input[pos..]);
                break;
            }
            texts.Add(input[pos..next]);
            pos = next + Separator.Length;
        }
        var lines = File.ReadAllLines(VocabPath(name) + ".out");
        if (lines.Length != texts.Count)
        {
            throw new InvalidDataException($"{name}: {texts.Count} inputs but {lines.Length} expected lines");
        }
        return [.. texts.Select((text, i) => (text, ParseIds(lines[i])))];
    }

    public static int[] ParseIds(string line) =>
        [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse)];
}
