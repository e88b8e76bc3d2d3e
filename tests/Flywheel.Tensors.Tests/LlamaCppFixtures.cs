using System.Runtime.InteropServices;
using System.Text.Json;

namespace Flywheel.Tensors.Tests;

/// <summary>
/// Reads the golden files in Fixtures/llamacpp-quant, made by llama.cpp: manifest.json names the source floats
/// (source.f32), and per type the bytes llama-quantize wrote (T.bin) and llama.cpp's dequantization of them
/// (T.dequant.f32). All files are raw little-endian.
/// </summary>
internal static class LlamaCppFixtures
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llamacpp-quant");

    public static bool Present => File.Exists(Path.Combine(Directory, "manifest.json"));

    public sealed record Entry(string Type, string Quant, string Dequant, string MadeBy);

    public sealed record Manifest(int Rows, int Cols, string Source, IReadOnlyList<Entry> Types);

    public static Manifest Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "manifest.json")));
        var root = doc.RootElement;
        var entries = root.GetProperty("types").EnumerateArray()
            .Select(t => new Entry(
                t.GetProperty("type").GetString()!,
                t.GetProperty("quant").GetString()!,
                t.GetProperty("dequant").GetString()!,
                t.TryGetProperty("made_by", out var madeBy) ? madeBy.GetString() ?? "" : ""))
            .ToList();
        return new Manifest(root.GetProperty("rows").GetInt32(), root.GetProperty("cols").GetInt32(),
            root.GetProperty("source").GetString()!, entries);
    }

    /// <summary>Theory rows: one per fixture type, or a single "(missing)" row so the absence is reported.</summary>
    public static TheoryData<string> TypeNames()
    {
        var data = new TheoryData<string>();
        if (!Present)
        {
            data.Add(Missing);
            return data;
        }
        foreach (var entry in Load().Types)
        {
            data.Add(entry.Type);
        }
        return data;
    }

    public const string Missing = "(missing)";

    public static Entry Find(Manifest manifest, string type) => manifest.Types.Single(t => t.Type == type);

    public static byte[] ReadBytes(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    public static float[] ReadFloats(string name) => MemoryMarshal.Cast<byte, float>(ReadBytes(name)).ToArray();

    public static GgmlType ParseType(string name) => Enum.Parse<GgmlType>(name, ignoreCase: true);
}
