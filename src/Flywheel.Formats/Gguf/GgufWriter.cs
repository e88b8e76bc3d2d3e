using System.Buffers.Binary;
using System.Text;
using Flywheel.Tensors;

namespace Flywheel.Formats.Gguf;

/// <summary>
/// Builds a GGUF file (version 3 by default, or 2): metadata in insertion order, then tensors aligned to
/// <see cref="Alignment"/>. <see cref="Save"/> writes to a temporary file beside the target and renames it
/// into place, so a crash mid-write never leaves a half-written model under the real name.
/// Not thread-safe.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly List<(string Name, GgmlType Type, long[] Shape, ReadOnlyMemory<byte> Data)> _tensors = [];

    public uint Version { get; init; } = 3;

    public int Alignment { get; private set; } = GgufKeys.DefaultAlignment;

    /// <summary>Sets or replaces a metadata value; a new key keeps its insertion position.</summary>
    public GgufWriter Set(string key, GgufValue value)
    {
        var i = _metadata.FindIndex(kv => kv.Key == key);
        if (i >= 0) _metadata[i] = new(key, value);
        else _metadata.Add(new(key, value));
        if (key == GgufKeys.Alignment)
        {
            var a = value.AsInt64();
            if (a <= 0 || (a & (a - 1)) != 0) throw new ArgumentException($"alignment must be a power of two, not {a}");
            Alignment = (int)a;
        }
        return this;
    }

    public GgufWriter Set(string key, string value) => Set(key, GgufValue.String(value));
    public GgufWriter Set(string key, uint value) => Set(key, GgufValue.UInt32(value));
    public GgufWriter Set(string key, float value) => Set(key, GgufValue.Float32(value));
    public GgufWriter Set(string key, bool value) => Set(key, GgufValue.Bool(value));

    /// <summary>Copies every metadata entry of <paramref name="source"/>, in its order.</summary>
    public GgufWriter CopyMetadata(GgufFile source)
    {
        foreach (var key in source.MetadataKeys) Set(key, source.Metadata[key]);
        return this;
    }

    /// <summary>Adds a tensor. <paramref name="shape"/> is in GGUF order (row length first); the data is not copied.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, ReadOnlyMemory<byte> data)
    {
        if (_tensors.Any(t => t.Name == name)) throw new ArgumentException($"tensor '{name}' added twice");
        var info = new GgufTensorInfo(name, type, shape, 0);
        if (GgmlTypeInfo.RowBytes(type, shape.Length == 0 ? 1 : shape[0]) < 0)
        {
            throw new ArgumentException($"tensor '{name}': row length {shape[0]} is not a multiple of {type}'s block size");
        }
        if (info.ByteSize != data.Length)
        {
            throw new ArgumentException($"tensor '{name}': {type} {string.Join('x', shape)} takes {info.ByteSize} bytes, got {data.Length}");
        }
        _tensors.Add((name, type, shape, data));
        return this;
    }

    /// <summary>Writes the file atomically: to a temporary sibling, flushed to disk, then renamed over <paramref name="path"/>.</summary>
    public void Save(string path) => AtomicFile.Write(path, WriteTo);

    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }

    public void WriteTo(Stream stream)
    {
        var w = new Output(stream);
        w.U32(GgufFile.Magic);
        w.U32(Version);
        w.U64((ulong)_tensors.Count);
        w.U64((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            w.Str(key);
            w.U32((uint)value.Type);
            WriteValue(w, value.Type, value.Value);
        }
        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (var i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            w.Str(t.Name);
            w.U32((uint)t.Shape.Length);
            foreach (var d in t.Shape) w.U64((ulong)d);
            w.U32((uint)t.Type);
            offsets[i] = offset;
            w.U64((ulong)offset);
            offset = Align(offset + t.Data.Length);
        }
        w.Pad(Align(w.Position) - w.Position);
        long written = 0;
        foreach (var t in _tensors)
        {
            w.Bytes(t.Data.Span);
            written += t.Data.Length;
            var next = Align(written);
            w.Pad(next - written);
            written = next;
        }
        stream.Flush();
    }

    private long Align(long x) => (x + Alignment - 1) / Alignment * Alignment;

    private static void WriteValue(Output w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Byte((byte)value); break;
            case GgufValueType.Int8: w.Byte(unchecked((byte)(sbyte)value)); break;
            case GgufValueType.UInt16: w.U16((ushort)value); break;
            case GgufValueType.Int16: w.U16(unchecked((ushort)(short)value)); break;
            case GgufValueType.UInt32: w.U32((uint)value); break;
            case GgufValueType.Int32: w.U32(unchecked((uint)(int)value)); break;
            case GgufValueType.Float32: w.U32(BitConverter.SingleToUInt32Bits((float)value)); break;
            case GgufValueType.Bool: w.Byte((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: w.Str((string)value); break;
            case GgufValueType.UInt64: w.U64((ulong)value); break;
            case GgufValueType.Int64: w.U64(unchecked((ulong)(long)value)); break;
            case GgufValueType.Float64: w.U64(BitConverter.DoubleToUInt64Bits((double)value)); break;
            case GgufValueType.Array:
                var array = (GgufArray)value;
                w.U32((uint)array.ElementType);
                w.U64((ulong)array.Length);
                foreach (var item in array.Items) WriteValue(w, array.ElementType, item!);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(type), $"unknown GGUF value type {type}");
        }
    }

    /// <summary>Little-endian primitive writes that track the position (streams may not be seekable).</summary>
    private sealed class Output(Stream stream)
    {
        private readonly byte[] _scratch = new byte[8];

        public long Position { get; private set; }

        public void Byte(byte b) { stream.WriteByte(b); Position++; }
        public void U16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(_scratch, v); Bytes(_scratch.AsSpan(0, 2)); }
        public void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(_scratch, v); Bytes(_scratch.AsSpan(0, 4)); }
        public void U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(_scratch, v); Bytes(_scratch.AsSpan(0, 8)); }

        public void Str(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            U64((ulong)bytes.Length);
            Bytes(bytes);
        }

        public void Bytes(ReadOnlySpan<byte> data) { stream.Write(data); Position += data.Length; }

        public void Pad(long count)
        {
            for (long i = 0; i < count; i++) Byte(0);
        }
    }
}
