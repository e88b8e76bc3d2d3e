using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Flywheel.Formats.Safetensors;

/// <summary>
/// Writes a safetensors file (tests, LoRA adapters). Tensors are laid out in insertion order; the header is
/// padded with spaces to a multiple of 8 bytes so the data section starts aligned, as the format recommends.
/// <see cref="Save"/> writes to a temporary sibling and renames it into place. Not thread-safe.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<(string Name, string DType, long[] Shape, ReadOnlyMemory<byte> Data)> _tensors = [];
    private readonly Dictionary<string, string> _metadata = [];

    public SafetensorsWriter SetMetadata(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    /// <summary>Adds a tensor; <paramref name="shape"/> is row-major, outermost first (PyTorch order).</summary>
    public SafetensorsWriter Add(string name, SafetensorsDType dtype, long[] shape, ReadOnlyMemory<byte> data)
    {
        var expected = shape.Aggregate(1L, (n, d) => n * d) * SafetensorsTensorInfo.ElementSize(dtype);
        if (expected != data.Length) throw new ArgumentException($"tensor '{name}': expected {expected} bytes, got {data.Length}");
        _tensors.Add((name, DTypeName(dtype), shape, data));
        return this;
    }

    public SafetensorsWriter AddFloat32(string name, long[] shape, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return Add(name, SafetensorsDType.F32, shape, bytes);
    }

    public void Save(string path) => AtomicFile.Write(path, WriteTo);

    public void WriteTo(Stream stream)
    {
        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (_metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in _metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in _tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.Data.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.Data.Length;
            }
            w.WriteEndObject();
        }
        var header = json.ToArray();
        var padded = (header.Length + 7) / 8 * 8;
        Span<byte> size = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)padded);
        stream.Write(size);
        stream.Write(header);
        stream.Write(Encoding.ASCII.GetBytes(new string(' ', padded - header.Length)));
        foreach (var t in _tensors) stream.Write(t.Data.Span);
    }

    private static string DTypeName(SafetensorsDType t) => t switch
    {
        SafetensorsDType.Bool => "BOOL",
        SafetensorsDType.F8E4M3 => "F8_E4M3",
        SafetensorsDType.F8E5M2 => "F8_E5M2",
        _ => t.ToString(),
    };
}
