using System.Globalization;

namespace Flywheel.Formats.Gguf;

/// <summary>
/// One GGUF metadata value: its wire type and the CLR value that carries it (<c>byte</c>, <c>sbyte</c>, ...,
/// <c>string</c>, <c>bool</c>, or <see cref="GgufArray"/>). Immutable.
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value)
{
    public static GgufValue UInt8(byte v) => new(GgufValueType.UInt8, v);
    public static GgufValue Int8(sbyte v) => new(GgufValueType.Int8, v);
    public static GgufValue UInt16(ushort v) => new(GgufValueType.UInt16, v);
    public static GgufValue Int16(short v) => new(GgufValueType.Int16, v);
    public static GgufValue UInt32(uint v) => new(GgufValueType.UInt32, v);
    public static GgufValue Int32(int v) => new(GgufValueType.Int32, v);
    public static GgufValue Float32(float v) => new(GgufValueType.Float32, v);
    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue String(string v) => new(GgufValueType.String, v);
    public static GgufValue UInt64(ulong v) => new(GgufValueType.UInt64, v);
    public static GgufValue Int64(long v) => new(GgufValueType.Int64, v);
    public static GgufValue Float64(double v) => new(GgufValueType.Float64, v);

    public static GgufValue Array(GgufValueType elementType, Array items)
    {
        var expected = ClrType(elementType);
        if (items.GetType().GetElementType() != expected)
        {
            throw new ArgumentException($"a {elementType} array needs {expected.Name}[] items, not {items.GetType().Name}");
        }
        return new(GgufValueType.Array, new GgufArray(elementType, items));
    }

    public GgufArray AsArray() => Value as GgufArray
        ?? throw new InvalidOperationException($"metadata value is {Type}, not an array");

    public string AsString() => Value as string
        ?? throw new InvalidOperationException($"metadata value is {Type}, not a string");

    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16
        or GgufValueType.Int16 or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64
        or GgufValueType.Int64;

    /// <summary>Any integer type widened to <c>long</c>; writers disagree on widths (u32 vs i32), readers should not care.</summary>
    public long AsInt64() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v => checked((long)v),
        long v => v,
        bool v => v ? 1 : 0,
        _ => throw new InvalidOperationException($"metadata value is {Type}, not an integer"),
    };

    public double AsDouble() => Value switch
    {
        float v => v,
        double v => v,
        _ when IsInteger => AsInt64(),
        _ => throw new InvalidOperationException($"metadata value is {Type}, not a number"),
    };

    public bool AsBool() => Value is bool b ? b : AsInt64() != 0;

    public override string ToString() => Value switch
    {
        string s => s,
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        GgufArray a => $"[{a.ElementType} x {a.Length}]",
        _ => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>The CLR element type used to hold values of <paramref name="type"/>.</summary>
    public static Type ClrType(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => typeof(byte),
        GgufValueType.Int8 => typeof(sbyte),
        GgufValueType.UInt16 => typeof(ushort),
        GgufValueType.Int16 => typeof(short),
        GgufValueType.UInt32 => typeof(uint),
        GgufValueType.Int32 => typeof(int),
        GgufValueType.Float32 => typeof(float),
        GgufValueType.Bool => typeof(bool),
        GgufValueType.String => typeof(string),
        GgufValueType.Array => typeof(GgufArray),
        GgufValueType.UInt64 => typeof(ulong),
        GgufValueType.Int64 => typeof(long),
        GgufValueType.Float64 => typeof(double),
        _ => throw new ArgumentOutOfRangeException(nameof(type), $"unknown GGUF value type {(uint)type}"),
    };
}
