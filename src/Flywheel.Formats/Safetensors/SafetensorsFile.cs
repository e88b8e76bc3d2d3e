using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text.Json;
using Flywheel.Tensors;

namespace Flywheel.Formats.Safetensors;

/// <summary>
/// A safetensors file, memory-mapped read-only. Layout (safetensors format): a u64 little-endian header size N,
/// N bytes of JSON mapping each tensor name to {dtype, shape, data_offsets: [begin, end]} (plus an optional
/// "__metadata__" string map), then the data section. Every offset is checked against the file length.
/// Thread-safe after construction; dispose to unmap.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>The format caps the header at 100 MB; a larger size means a corrupt or foreign file.</summary>
    private const long MaxHeaderSize = 100_000_000;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    private SafetensorsFile(string path, long length, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* data)
    {
        Path = path;
        FileLength = length;
        _map = map;
        _view = view;
        _base = data;
        (Tensors, Metadata, DataOffset) = ParseHeader(path, data, length);
        _byName = Tensors.ToDictionary(t => t.Name);
    }

    public string Path { get; }
    public long FileLength { get; }
    public long DataOffset { get; }
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new ModelFormatException(path, null, "file not found");
        if (info.Length < 8)
        {
            throw new ModelFormatException(path, 0, $"file is {info.Length} bytes, too short for a safetensors header (truncated file?)");
        }
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* ptr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            return new SafetensorsFile(path, info.Length, map, view, ptr + view.PointerOffset);
        }
        catch
        {
            if (view is not null)
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                view.Dispose();
            }
            map.Dispose();
            throw;
        }
    }

    public SafetensorsTensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The raw bytes of a tensor, zero-copy. Valid while this file is open.</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        var t = _byName.GetValueOrDefault(name) ?? throw new ModelFormatException(Path, null, $"tensor '{name}' is missing");
        return new ReadOnlySpan<byte>(_base + DataOffset + t.Begin, checked((int)t.ByteLength));
    }

    /// <summary>Converts a floating-point tensor to F32 (F32, F16 and BF16 are exact conversions).</summary>
    public void ReadAsFloat32(string name, Span<float> destination)
    {
        var t = _byName.GetValueOrDefault(name) ?? throw new ModelFormatException(Path, null, $"tensor '{name}' is missing");
        var bytes = GetBytes(name);
        var n = checked((int)t.ElementCount);
        if (destination.Length < n) throw new ArgumentException($"destination holds {destination.Length} floats, tensor '{name}' has {n}");
        switch (t.DType)
        {
            case SafetensorsDType.F32:
                for (var i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
                break;
            case SafetensorsDType.F16:
                for (var i = 0; i < n; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]);
                break;
            case SafetensorsDType.BF16:
                // BF16 is the top half of an IEEE single, so widening is a shift.
                for (var i = 0; i < n; i++) destination[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16);
                break;
            default:
                throw new ModelFormatException(Path, null, $"tensor '{name}' is {t.DType}, which Flywheel does not read as floating point");
        }
    }

    /// <summary>The GGML type a tensor maps to without conversion, or null when it has none.</summary>
    public static GgmlType? GgmlTypeOf(SafetensorsDType type) => type switch
    {
        SafetensorsDType.F32 => GgmlType.F32,
        SafetensorsDType.F16 => GgmlType.F16,
        SafetensorsDType.BF16 => GgmlType.BF16,
        SafetensorsDType.I8 => GgmlType.I8,
        SafetensorsDType.F64 => GgmlType.F64,
        SafetensorsDType.I16 => GgmlType.I16,
        SafetensorsDType.I32 => GgmlType.I32,
        SafetensorsDType.I64 => GgmlType.I64,
        _ => null,
    };

    private static (IReadOnlyList<SafetensorsTensorInfo>, IReadOnlyDictionary<string, string>, long) ParseHeader(string path, byte* data, long length)
    {
        var headerSize = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(data, 8));
        if (headerSize > MaxHeaderSize)
        {
            throw new ModelFormatException(path, 0, $"absurd header size {headerSize} (safetensors caps it at {MaxHeaderSize})");
        }
        if ((long)headerSize > length - 8)
        {
            throw new ModelFormatException(path, 0, $"header of {headerSize} bytes runs past the end of the {length}-byte file (truncated file?)");
        }
        var dataOffset = 8 + (long)headerSize;
        var dataLength = length - dataOffset;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(new ReadOnlySpan<byte>(data + 8, (int)headerSize).ToArray()));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, 8 + (e.BytePositionInLine ?? 0), $"header is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(path, 8, "header must be a JSON object");
            }
            var tensors = new List<SafetensorsTensorInfo>();
            var metadata = new Dictionary<string, string>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                    }
                    continue;
                }
                tensors.Add(ParseTensor(path, prop.Name, prop.Value, dataOffset, dataLength));
            }
            return (tensors, metadata, dataOffset);
        }
    }

    private static SafetensorsTensorInfo ParseTensor(string path, string name, JsonElement e, long dataOffset, long dataLength)
    {
        ModelFormatException Bad(string problem) => new(path, 8, $"tensor '{name}': {problem}");
        if (e.ValueKind != JsonValueKind.Object) throw Bad("entry is not an object");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw Bad("missing dtype");
        var dtypeName = dt.GetString()!;
        SafetensorsDType dtype = dtypeName switch
        {
            "F32" => SafetensorsDType.F32,
            "F16" => SafetensorsDType.F16,
            "BF16" => SafetensorsDType.BF16,
            "I8" => SafetensorsDType.I8,
            "U8" => SafetensorsDType.U8,
            "F64" => SafetensorsDType.F64,
            "I16" => SafetensorsDType.I16,
            "U16" => SafetensorsDType.U16,
            "I32" => SafetensorsDType.I32,
            "U32" => SafetensorsDType.U32,
            "I64" => SafetensorsDType.I64,
            "U64" => SafetensorsDType.U64,
            "BOOL" => SafetensorsDType.Bool,
            "F8_E4M3" => SafetensorsDType.F8E4M3,
            "F8_E5M2" => SafetensorsDType.F8E5M2,
            _ => throw Bad($"unknown dtype '{dtypeName}'"),
        };
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw Bad("missing shape");
        var shape = new long[sh.GetArrayLength()];
        long elements = 1;
        var i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (!d.TryGetInt64(out var dim) || dim < 0 || (dim > 0 && elements > long.MaxValue / 16 / dim)) throw Bad($"invalid dimension {d}");
            shape[i++] = dim;
            elements *= dim;
        }
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
        {
            throw Bad("data_offsets must be [begin, end]");
        }
        if (!off[0].TryGetInt64(out var begin) || !off[1].TryGetInt64(out var end) || begin < 0 || end < begin)
        {
            throw Bad($"invalid data_offsets {off}");
        }
        if (end > dataLength)
        {
            throw new ModelFormatException(path, dataOffset + begin,
                $"tensor '{name}' ends at data offset {end}, past the end of the file's {dataLength}-byte data section (truncated file?)");
        }
        var expected = elements * SafetensorsTensorInfo.ElementSize(dtype);
        if (end - begin != expected)
        {
            throw Bad($"{dtypeName} [{string.Join(", ", shape)}] takes {expected} bytes, but data_offsets span {end - begin}");
        }
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
