using System.Runtime.InteropServices;
using System.Text.Json;

namespace Flywheel.Tensors.Tests;

/// <summary>
/// Reads the golden files under Fixtures/, made by llama.cpp. Each folder has a manifest.json naming, per type, the
/// quantized bytes (T.bin) and llama.cpp's dequantization of them (T.dequant.f32), and optionally the source floats
/// the bytes were quantized from. All files are raw little-endian; each folder's README says how it was made.
/// </summary>
internal static class LlamaCppFixtures
{
    /// <summary>llama-quantize --pure output (made by the fixtures tooling; see its README).</summary>
    public const string LlamaQuantize = "llamacpp-quant";

    /// <summary>ggml_quantize_chunk output for the types llama-quantize has no pure file type for.</summary>
    public const string ExtraQuant = "llamacpp-extra-quant";

    /// <summary>Random blocks and their ggml dequantization, for formats we only decode.</summary>
    public const string DequantRandom = "llamacpp-dequant-random";

    /// <summary>ggml_quantize_chunk output with an importance matrix (the llama-quantize --imatrix path).</summary>
    public const string ImatrixQuant = "llamacpp-imatrix-quant";

    private static readonly string[] Folders = [LlamaQuantize, ExtraQuant, DequantRandom, ImatrixQuant];

    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public sealed record Entry(string Type, string Quant, string Dequant, string MadeBy);

    public sealed record Manifest(string Folder, int Rows, int Cols, string? Source, string? Importance, IReadOnlyList<Entry> Types)
    {
        public Entry Find(string type) => Types.Single(t => t.Type == type);

        public byte[] ReadBytes(string name) => File.ReadAllBytes(Path.Combine(Root, Folder, name));

        public float[] ReadFloats(string name) => MemoryMarshal.Cast<byte, float>(ReadBytes(name)).ToArray();
    }

    public static bool Present(string folder) => File.Exists(Path.Combine(Root, folder, "manifest.json"));

    public static Manifest Load(string folder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, folder, "manifest.json")));
        var root = doc.RootElement;
        var entries = root.GetProperty("types").EnumerateArray()
            .Select(t => new Entry(
                t.GetProperty("type").GetString()!,
                t.GetProperty("quant").GetString()!,
                t.GetProperty("dequant").GetString()!,
                t.TryGetProperty("made_by", out var madeBy) ? madeBy.GetString() ?? "" : ""))
            .ToList();
        string? source = root.TryGetProperty("source", out var s) ? s.GetString() : null;
        string? importance = root.TryGetProperty("importance", out var i) ? i.GetString() : null;
        return new Manifest(folder, root.GetProperty("rows").GetInt32(), root.GetProperty("cols").GetInt32(), source, importance, entries);
    }

    /// <summary>Theory rows (folder, type); a missing folder yields one row with type <see cref="Missing"/>.</summary>
    public static TheoryData<string, string> Cases(bool needSource)
    {
        var data = new TheoryData<string, string>();
        foreach (string folder in Folders)
        {
            if (!Present(folder))
            {
                data.Add(folder, Missing);
                continue;
            }
            var manifest = Load(folder);
            if (needSource && manifest.Source is null)
            {
                continue;
            }
            foreach (var entry in manifest.Types)
            {
                data.Add(folder, entry.Type);
            }
        }
        return data;
    }

    public const string Missing = "(missing)";

    public static GgmlType ParseType(string name) => Enum.Parse<GgmlType>(name, ignoreCase: true);
}
