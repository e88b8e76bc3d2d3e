using System.Buffers.Binary;
using System.Text;

namespace Flywheel.Formats.Gguf;

/// <summary>
/// Bounds-checked little-endian reads over a GGUF file's bytes. Every read that would run past the end
/// throws a <see cref="ModelFormatException"/> naming the offset, so a truncated file never turns into an
/// access violation or an unhandled exception.
/// </summary>
internal unsafe struct GgufCursor
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte* _base;
    private readonly long _length;
    private readonly string _path;

    public GgufCursor(byte* data, long length, string path)
    {
        _base = data;
        _length = length;
        _path = path;
        Position = 0;
    }

    public long Position { get; set; }

    public readonly long Remaining => _length - Position;

    public readonly ModelFormatException Error(string problem, long? at = null) => new(_path, at ?? Position, problem);

    private ReadOnlySpan<byte> Take(long count, string what)
    {
        if (count < 0 || count > Remaining || count > int.MaxValue)
        {
            throw Error($"file ends inside {what}: needs {count} bytes, {Remaining} left (truncated file?)");
        }
        var span = new ReadOnlySpan<byte>(_base + Position, (int)count);
        Position += count;
        return span;
    }

    public byte ReadUInt8(string what) => Take(1, what)[0];
    public sbyte ReadInt8(string what) => (sbyte)Take(1, what)[0];
    public ushort ReadUInt16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    public short ReadInt16(string what) => BinaryPrimitives.ReadInt16LittleEndian(Take(2, what));
    public uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public int ReadInt32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));
    public ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));
    public long ReadInt64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));
    public float ReadFloat32(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));
    public double ReadFloat64(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    public bool ReadBool(string what)
    {
        var at = Position;
        var b = ReadUInt8(what);
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw Error($"{what}: a bool must be 0 or 1, found {b}", at),
        };
    }

    /// <summary>A GGUF string: a u64 byte length, then that many UTF-8 bytes (no terminator).</summary>
    public string ReadString(string what)
    {
        var at = Position;
        var length = ReadUInt64(what + " length");
        if (length > (ulong)Remaining)
        {
            throw Error($"{what}: string length {length} runs past the end of the file ({Remaining} bytes left)", at);
        }
        var bytes = Take((long)length, what);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            // Some published vocabularies hold byte tokens that are not valid UTF-8 on their own; keep them
            // readable rather than rejecting the file, as llama.cpp does.
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
