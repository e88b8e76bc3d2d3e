using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Flywheel.Tensors;

namespace Flywheel.Formats.Gguf;

/// <summary>
/// An open GGUF file (versions 2 and 3), memory-mapped read-only. The header and metadata are parsed eagerly
/// and validated against the file length; tensor data is never copied: <see cref="GetTensor"/> returns views
/// into the mapping. Dispose to unmap; views are invalid afterwards.
/// Thread-safety: after <see cref="Open"/> returns, every member is safe to call from many threads.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian u32.</summary>
    public const uint Magic = 0x46554747;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private GCHandle _pin;
    private byte* _base;
    private readonly Dictionary<string, GgufValue> _metadata;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;

    private GgufFile(string path, long length, byte* data, MemoryMappedFile? map, MemoryMappedViewAccessor? view, GCHandle pin)
    {
        Path = path;
        FileLength = length;
        _base = data;
        _map = map;
        _view = view;
        _pin = pin;
        var header = GgufParser.Parse(data, length, path);
        Version = header.Version;
        Alignment = header.Alignment;
        DataOffset = header.DataOffset;
        MetadataKeys = header.Metadata.Select(kv => kv.Key).ToArray();
        _metadata = header.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        Tensors = header.Tensors;
        _tensorsByName = header.Tensors.ToDictionary(t => t.Name);
    }

    public string Path { get; }
    public uint Version { get; }
    public long FileLength { get; }
    public int Alignment { get; }

    /// <summary>Absolute offset of the tensor data section.</summary>
    public long DataOffset { get; }

    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> MetadataKeys { get; }
    public IReadOnlyDictionary<string, GgufValue> Metadata => _metadata;
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    public string? Architecture => TryGetString(GgufKeys.Architecture);

    /// <summary>Opens and validates <paramref name="path"/>. Throws <see cref="ModelFormatException"/> for any malformed file.</summary>
    public static GgufFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new ModelFormatException(path, null, "file not found");
        }
        if (info.Length < 8)
        {
            throw new ModelFormatException(path, 0, $"file is {info.Length} bytes, too short to be GGUF (truncated file?)");
        }
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* ptr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            ptr += view.PointerOffset;
            return new GgufFile(path, info.Length, ptr, map, view, default);
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

    /// <summary>Parses a GGUF image held in memory (tests, fuzzing). The array is pinned until disposal.</summary>
    public static GgufFile Read(byte[] bytes, string name = "<memory>")
    {
        var pin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
        try
        {
            return new GgufFile(name, bytes.Length, (byte*)pin.AddrOfPinnedObject(), null, null, pin);
        }
        catch
        {
            pin.Free();
            throw;
        }
    }

    /// <summary>
    /// Lets the operating system drop the resident pages of [data, data + length), a range of this file's mapping that
    /// will rarely be read again (e.g. a tensor the kernels copied into their own layout). Reads stay valid: they fault
    /// the bytes back in from the file. Does nothing for an image held in memory (<see cref="Read"/>).
    /// </summary>
    public void ReleasePages(byte* data, long length)
    {
        if (_map is null || _base is null) return;
        if (data < _base || length < 0 || data + length > _base + FileLength) throw new ArgumentOutOfRangeException(nameof(data), "the range is not inside this file");
        ResidentPages.Release(data, length);
    }

    public bool TryGetValue(string key, out GgufValue value) => _metadata.TryGetValue(key, out value!);

    public string? TryGetString(string key) => _metadata.TryGetValue(key, out var v) && v.Value is string s ? s : null;

    public long? TryGetInt64(string key) => _metadata.TryGetValue(key, out var v) && v.IsInteger ? v.AsInt64() : null;

    public double? TryGetDouble(string key) =>
        _metadata.TryGetValue(key, out var v) && (v.IsInteger || v.Type is GgufValueType.Float32 or GgufValueType.Float64)
            ? v.AsDouble()
            : null;

    public GgufArray? TryGetArray(string key) => _metadata.TryGetValue(key, out var v) ? v.Value as GgufArray : null;

    public bool HasTensor(string name) => _tensorsByName.ContainsKey(name);

    public GgufTensorInfo? FindTensor(string name) => _tensorsByName.GetValueOrDefault(name);

    /// <summary>A zero-copy view of the named tensor; throws <see cref="ModelFormatException"/> when it is absent.</summary>
    public TensorView GetTensor(string name)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (!_tensorsByName.TryGetValue(name, out var info))
        {
            throw new ModelFormatException(Path, null, $"tensor '{name}' is missing");
        }
        return new TensorView(info.Name, info.Type, info.Shape, _base + DataOffset + info.Offset, info.ByteSize);
    }

    public void Dispose()
    {
        if (_base == null)
        {
            return;
        }
        _base = null;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        if (_pin.IsAllocated)
        {
            _pin.Free();
        }
    }
}
