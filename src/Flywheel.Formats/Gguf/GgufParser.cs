using Flywheel.Tensors;

namespace Flywheel.Formats.Gguf;

/// <summary>
/// Parses the GGUF header, metadata and tensor table, and checks every count, length and offset against the
/// file size before trusting it. Layout per the GGUF specification (ggml docs/gguf.md):
/// magic u32, version u32, tensor_count u64, kv_count u64, key/value pairs, tensor infos, padding to the
/// alignment, then the data section.
/// </summary>
internal static unsafe class GgufParser
{
    /// <summary>ggml never stores more than four dimensions (GGML_MAX_DIMS).</summary>
    private const int MaxDimensions = 4;

    /// <summary>Nested arrays deeper than this are refused; no real file nests at all.</summary>
    private const int MaxArrayDepth = 4;

    internal sealed record Header(
        uint Version,
        int Alignment,
        long DataOffset,
        List<KeyValuePair<string, GgufValue>> Metadata,
        List<GgufTensorInfo> Tensors);

    public static Header Parse(byte* data, long length, string path)
    {
        var c = new GgufCursor(data, length, path);
        var magic = c.ReadUInt32("magic");
        if (magic != GgufFile.Magic)
        {
            throw c.Error($"not a GGUF file: magic is 0x{magic:X8}, expected 0x{GgufFile.Magic:X8} (\"GGUF\")", 0);
        }
        var versionAt = c.Position;
        var version = c.ReadUInt32("version");
        if (version == 1)
        {
            throw c.Error("GGUF version 1 is not supported (it predates 64-bit counts); re-convert the model", versionAt);
        }
        if (version is not (2 or 3))
        {
            throw c.Error($"unsupported GGUF version {version} (Flywheel reads versions 2 and 3)", versionAt);
        }

        var tensorCountAt = c.Position;
        var tensorCount = c.ReadUInt64("tensor count");
        var kvCountAt = c.Position;
        var kvCount = c.ReadUInt64("metadata count");
        // A key/value pair takes at least 12 bytes (8-byte key length, 4-byte type) and a tensor info at least 24,
        // so a count beyond that bound cannot be honest; refuse it before allocating anything.
        if (kvCount > (ulong)c.Remaining / 12)
        {
            throw c.Error($"absurd metadata count {kvCount} for a file of {length} bytes", kvCountAt);
        }
        if (tensorCount > (ulong)c.Remaining / 24)
        {
            throw c.Error($"absurd tensor count {tensorCount} for a file of {length} bytes", tensorCountAt);
        }

        var metadata = new List<KeyValuePair<string, GgufValue>>((int)kvCount);
        var seenKeys = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            var keyAt = c.Position;
            var key = c.ReadString($"metadata key #{i}");
            if (!seenKeys.Add(key))
            {
                throw c.Error($"duplicate metadata key '{key}'", keyAt);
            }
            var typeAt = c.Position;
            var type = (GgufValueType)c.ReadUInt32($"type of '{key}'");
            var value = ReadValue(ref c, type, key, typeAt, depth: 0);
            metadata.Add(new(key, value));
        }

        var alignment = GgufKeys.DefaultAlignment;
        var alignmentEntry = metadata.FirstOrDefault(kv => kv.Key == GgufKeys.Alignment).Value;
        if (alignmentEntry is not null)
        {
            var a = alignmentEntry.IsInteger ? alignmentEntry.AsInt64() : -1;
            if (a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0)
            {
                throw c.Error($"{GgufKeys.Alignment} must be a power of two, found {alignmentEntry}", null);
            }
            alignment = (int)a;
        }

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        var seenNames = new HashSet<string>(StringComparer.Ordinal);
        var infoOffsets = new List<long>((int)tensorCount);
        for (ulong i = 0; i < tensorCount; i++)
        {
            var infoAt = c.Position;
            var name = c.ReadString($"name of tensor #{i}");
            if (!seenNames.Add(name))
            {
                throw c.Error($"duplicate tensor name '{name}'", infoAt);
            }
            var dimsAt = c.Position;
            var dimCount = c.ReadUInt32($"dimension count of '{name}'");
            if (dimCount > MaxDimensions)
            {
                throw c.Error($"tensor '{name}' has {dimCount} dimensions; at most {MaxDimensions} are allowed", dimsAt);
            }
            var shape = new long[dimCount];
            long elements = 1;
            for (var d = 0; d < dimCount; d++)
            {
                var dimAt = c.Position;
                var dim = c.ReadUInt64($"dimension {d} of '{name}'");
                if (dim > long.MaxValue / 2 || (elements != 0 && (long)dim > long.MaxValue / 2 / elements))
                {
                    throw c.Error($"tensor '{name}' has an absurd dimension {dim}", dimAt);
                }
                shape[d] = (long)dim;
                elements *= (long)dim;
            }
            var typeAt = c.Position;
            var type = (GgmlType)c.ReadUInt32($"type of '{name}'");
            if (!GgmlTypeInfo.IsKnown(type))
            {
                throw c.Error($"tensor '{name}' has unknown type {(uint)type}", typeAt);
            }
            var rowLength = dimCount == 0 ? 1 : shape[0];
            if (GgmlTypeInfo.RowBytes(type, rowLength) < 0)
            {
                throw c.Error(
                    $"tensor '{name}' has rows of {rowLength} elements, not a multiple of {GgmlTypeInfo.Name(type)}'s block of {GgmlTypeInfo.Get(type).BlockSize}",
                    dimsAt);
            }
            var offsetAt = c.Position;
            var offset = c.ReadUInt64($"offset of '{name}'");
            if (offset > long.MaxValue / 2)
            {
                throw c.Error($"tensor '{name}' has an absurd data offset {offset}", offsetAt);
            }
            if ((long)offset % alignment != 0)
            {
                throw c.Error($"tensor '{name}' data offset {offset} is not a multiple of the alignment {alignment}", offsetAt);
            }
            tensors.Add(new GgufTensorInfo(name, type, shape, (long)offset));
            infoOffsets.Add(offsetAt);
        }

        var dataOffset = (c.Position + alignment - 1) / alignment * alignment;
        if (tensorCount > 0 && dataOffset > length)
        {
            throw c.Error($"data section would start at byte {dataOffset}, past the end of the {length}-byte file (truncated file?)", c.Position);
        }
        for (var i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            var end = dataOffset + t.Offset + t.ByteSize;
            if (end > length)
            {
                throw c.Error(
                    $"tensor '{t.Name}' ({t.ByteSize} bytes at data offset {t.Offset}) ends at byte {end}, past the end of the {length}-byte file (truncated file?)",
                    infoOffsets[i]);
            }
        }
        return new Header(version, alignment, dataOffset, metadata, tensors);
    }

    private static GgufValue ReadValue(ref GgufCursor c, GgufValueType type, string key, long typeAt, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.UInt8(c.ReadUInt8(key));
            case GgufValueType.Int8: return GgufValue.Int8(c.ReadInt8(key));
            case GgufValueType.UInt16: return GgufValue.UInt16(c.ReadUInt16(key));
            case GgufValueType.Int16: return GgufValue.Int16(c.ReadInt16(key));
            case GgufValueType.UInt32: return GgufValue.UInt32(c.ReadUInt32(key));
            case GgufValueType.Int32: return GgufValue.Int32(c.ReadInt32(key));
            case GgufValueType.Float32: return GgufValue.Float32(c.ReadFloat32(key));
            case GgufValueType.Bool: return GgufValue.Bool(c.ReadBool(key));
            case GgufValueType.String: return GgufValue.String(c.ReadString(key));
            case GgufValueType.UInt64: return GgufValue.UInt64(c.ReadUInt64(key));
            case GgufValueType.Int64: return GgufValue.Int64(c.ReadInt64(key));
            case GgufValueType.Float64: return GgufValue.Float64(c.ReadFloat64(key));
            case GgufValueType.Array: return new GgufValue(GgufValueType.Array, ReadArray(ref c, key, depth));
            default: throw c.Error($"metadata '{key}' has unknown value type {(uint)type}", typeAt);
        }
    }

    private static GgufArray ReadArray(ref GgufCursor c, string key, int depth)
    {
        if (depth >= MaxArrayDepth)
        {
            throw c.Error($"metadata '{key}' nests arrays deeper than {MaxArrayDepth}");
        }
        var elementAt = c.Position;
        var elementType = (GgufValueType)c.ReadUInt32($"element type of '{key}'");
        var countAt = c.Position;
        var count = c.ReadUInt64($"length of '{key}'");
        var minElementSize = elementType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
            GgufValueType.Array => 12,
            _ => throw c.Error($"metadata '{key}' is an array of unknown value type {(uint)elementType}", elementAt),
        };
        if (count > (ulong)c.Remaining / (ulong)minElementSize)
        {
            throw c.Error($"metadata '{key}' claims {count} elements, more than the {c.Remaining} bytes left can hold", countAt);
        }
        var n = (int)count;
        Array items;
        switch (elementType)
        {
            case GgufValueType.UInt8: { var a = new byte[n]; for (var i = 0; i < n; i++) a[i] = c.ReadUInt8(key); items = a; break; }
            case GgufValueType.Int8: { var a = new sbyte[n]; for (var i = 0; i < n; i++) a[i] = c.ReadInt8(key); items = a; break; }
            case GgufValueType.UInt16: { var a = new ushort[n]; for (var i = 0; i < n; i++) a[i] = c.ReadUInt16(key); items = a; break; }
            case GgufValueType.Int16: { var a = new short[n]; for (var i = 0; i < n; i++) a[i] = c.ReadInt16(key); items = a; break; }
            case GgufValueType.UInt32: { var a = new uint[n]; for (var i = 0; i < n; i++) a[i] = c.ReadUInt32(key); items = a; break; }
            case GgufValueType.Int32: { var a = new int[n]; for (var i = 0; i < n; i++) a[i] = c.ReadInt32(key); items = a; break; }
            case GgufValueType.Float32: { var a = new float[n]; for (var i = 0; i < n; i++) a[i] = c.ReadFloat32(key); items = a; break; }
            case GgufValueType.Bool: { var a = new bool[n]; for (var i = 0; i < n; i++) a[i] = c.ReadBool(key); items = a; break; }
            case GgufValueType.String: { var a = new string[n]; for (var i = 0; i < n; i++) a[i] = c.ReadString(key); items = a; break; }
            case GgufValueType.UInt64: { var a = new ulong[n]; for (var i = 0; i < n; i++) a[i] = c.ReadUInt64(key); items = a; break; }
            case GgufValueType.Int64: { var a = new long[n]; for (var i = 0; i < n; i++) a[i] = c.ReadInt64(key); items = a; break; }
            case GgufValueType.Float64: { var a = new double[n]; for (var i = 0; i < n; i++) a[i] = c.ReadFloat64(key); items = a; break; }
            default: { var a = new GgufArray[n]; for (var i = 0; i < n; i++) a[i] = ReadArray(ref c, key, depth + 1); items = a; break; }
        }
        return new GgufArray(elementType, items);
    }
}
