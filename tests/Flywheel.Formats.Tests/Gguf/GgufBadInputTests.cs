using System.Buffers.Binary;
using Flywheel.Formats.Gguf;
using Flywheel.Tensors;
using Flywheel.Testing;

namespace Flywheel.Formats.Tests.Gguf;

/// <summary>Each malformed file gets a <see cref="ModelFormatException"/> that names the file and the offset.</summary>
public class GgufBadInputTests
{
    private static byte[] SmallModel()
    {
        var w = new GgufWriter();
        w.Set("general.architecture", "llama");
        w.Set("llama.context_length", 128u);
        w.AddTensor("token_embd.weight", GgmlType.F32, [4, 2], new byte[32]);
        w.AddTensor("blk.0.attn_q.weight", GgmlType.Q8_0, [32, 2], new byte[68]);
        return w.ToArray();
    }

    private static ModelFormatException Fails(byte[] bytes)
    {
        var ex = Assert.Throws<ModelFormatException>(() => GgufFile.Read(bytes, "bad.gguf").Dispose());
        Assert.Equal("bad.gguf", ex.FilePath);
        Assert.StartsWith("bad.gguf: ", ex.Message);
        return ex;
    }

    [Fact]
    public void Truncated_file_names_where_it_ends()
    {
        var good = SmallModel();
        // Every prefix shorter than the end of the last tensor's data must fail cleanly, wherever the cut
        // falls (header, metadata, tensor table, data); only trailing alignment padding may be lost.
        for (var cut = 0; cut < RequiredLength(good); cut++)
        {
            var bytes = good[..cut];
            if (cut < 8)
            {
                Fails(bytes);
                continue;
            }
            var ex = Fails(bytes);
            Assert.NotNull(ex.Offset);
        }
    }

    [Fact]
    public void Truncated_file_on_disk_reports_the_tensor_that_runs_past_the_end()
    {
        var dir = TestPaths.TempDir();
        var path = Path.Combine(dir, "cut.gguf");
        var good = SmallModel();
        File.WriteAllBytes(path, good[..(RequiredLength(good) - 10)]);
        var ex = Assert.Throws<ModelFormatException>(() => GgufFile.Open(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("blk.0.attn_q.weight", ex.Message);
        Assert.Contains("past the end", ex.Message);
        Assert.Matches("at byte [0-9]+", ex.Message);
    }

    [Fact]
    public void Wrong_magic()
    {
        var bytes = SmallModel();
        bytes[0] = (byte)'X';
        var ex = Fails(bytes);
        Assert.Equal(0, ex.Offset);
        Assert.Contains("not a GGUF file", ex.Message);
    }

    [Fact]
    public void Unsupported_version()
    {
        var bytes = SmallModel();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 1);
        Assert.Contains("version 1", Fails(bytes).Message);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 99);
        Assert.Equal(4, Fails(bytes).Offset);
    }

    [Fact]
    public void Absurd_tensor_count()
    {
        var bytes = SmallModel();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), ulong.MaxValue / 3);
        var ex = Fails(bytes);
        Assert.Equal(8, ex.Offset);
        Assert.Contains("absurd tensor count", ex.Message);
    }

    [Fact]
    public void Absurd_metadata_count()
    {
        var bytes = SmallModel();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), 1UL << 40);
        var ex = Fails(bytes);
        Assert.Equal(16, ex.Offset);
        Assert.Contains("absurd metadata count", ex.Message);
    }

    [Fact]
    public void Absurd_string_length()
    {
        var bytes = SmallModel();
        // The first key's length field sits right after the 24-byte header.
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), 1UL << 50);
        var ex = Fails(bytes);
        Assert.Equal(24, ex.Offset);
        Assert.Contains("runs past the end", ex.Message);
    }

    [Fact]
    public void Absurd_array_length()
    {
        var w = new GgufWriter();
        w.Set("tokens", GgufValue.Array(GgufValueType.Int32, new[] { 1, 2, 3 }));
        var bytes = w.ToArray();
        // header(24) + key length(8) + "tokens"(6) + value type(4) + element type(4) = array length field.
        var at = 24 + 8 + 6 + 4 + 4;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), 1UL << 40);
        var ex = Fails(bytes);
        Assert.Equal(at, ex.Offset);
        Assert.Contains("tokens", ex.Message);
    }

    [Fact]
    public void Offset_past_the_end_of_the_file()
    {
        var good = SmallModel();
        using var file = GgufFile.Read(good);
        var bytes = (byte[])good.Clone();
        var offsetField = FindTensorOffsetField(bytes, "blk.0.attn_q.weight");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(offsetField), 1 << 20);
        var ex = Fails(bytes);
        Assert.Equal(offsetField, ex.Offset);
        Assert.Contains("past the end", ex.Message);
    }

    [Fact]
    public void Misaligned_offset()
    {
        var bytes = SmallModel();
        var offsetField = FindTensorOffsetField(bytes, "blk.0.attn_q.weight");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(offsetField), 33);
        Assert.Contains("alignment", Fails(bytes).Message);
    }

    [Fact]
    public void Unknown_tensor_type()
    {
        var bytes = SmallModel();
        var typeField = FindTensorOffsetField(bytes, "blk.0.attn_q.weight") - 4;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(typeField), 77);
        var ex = Fails(bytes);
        Assert.Equal(typeField, ex.Offset);
        Assert.Contains("unknown type 77", ex.Message);
    }

    [Fact]
    public void Unknown_metadata_value_type()
    {
        var bytes = SmallModel();
        var typeField = 24 + 8 + "general.architecture".Length;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(typeField), 13);
        var ex = Fails(bytes);
        Assert.Equal(typeField, ex.Offset);
        Assert.Contains("unknown value type 13", ex.Message);
    }

    [Fact]
    public void Too_many_dimensions()
    {
        var bytes = SmallModel();
        var dimsField = IndexOf(bytes, "blk.0.attn_q.weight"u8) + "blk.0.attn_q.weight".Length;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(dimsField), 9);
        Assert.Contains("9 dimensions", Fails(bytes).Message);
    }

    [Fact]
    public void Empty_and_missing_files()
    {
        var dir = TestPaths.TempDir();
        var empty = Path.Combine(dir, "empty.gguf");
        File.WriteAllBytes(empty, []);
        Assert.Contains("too short", Assert.Throws<ModelFormatException>(() => GgufFile.Open(empty)).Message);
        Assert.Contains("not found", Assert.Throws<ModelFormatException>(() => GgufFile.Open(Path.Combine(dir, "none.gguf"))).Message);
    }

    private static int RequiredLength(byte[] bytes)
    {
        using var file = GgufFile.Read(bytes);
        return (int)file.Tensors.Max(t => file.DataOffset + t.Offset + t.ByteSize);
    }

    /// <summary>Offset of the u64 data-offset field of a tensor info: name, n_dims, dims, type, then offset.</summary>
    private static int FindTensorOffsetField(byte[] bytes, string name)
    {
        var nameAt = IndexOf(bytes, System.Text.Encoding.UTF8.GetBytes(name));
        var at = nameAt + name.Length;
        var dims = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
        return at + 4 + dims * 8 + 4;
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle)
    {
        var i = haystack.AsSpan().IndexOf(needle);
        Assert.True(i >= 0);
        return i;
    }
}
