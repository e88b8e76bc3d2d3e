using Flywheel.Formats.Gguf;
using Flywheel.Tensors;
using Flywheel.Testing;

namespace Flywheel.Formats.Tests.Gguf;

public class GgufWriterTests
{
    private static GgufWriter EveryValueType(uint version)
    {
        var w = new GgufWriter { Version = version };
        w.Set("general.architecture", "llama");
        w.Set("u8", GgufValue.UInt8(250));
        w.Set("i8", GgufValue.Int8(-120));
        w.Set("u16", GgufValue.UInt16(65000));
        w.Set("i16", GgufValue.Int16(-32000));
        w.Set("u32", GgufValue.UInt32(4_000_000_000));
        w.Set("i32", GgufValue.Int32(-2_000_000_000));
        w.Set("f32", GgufValue.Float32(3.14159f));
        w.Set("bool", GgufValue.Bool(true));
        w.Set("str", GgufValue.String("héllo 你好 👋"));
        w.Set("u64", GgufValue.UInt64(ulong.MaxValue));
        w.Set("i64", GgufValue.Int64(long.MinValue));
        w.Set("f64", GgufValue.Float64(-1e300));
        w.Set("arr.str", GgufValue.Array(GgufValueType.String, new[] { "a", "", "中文" }));
        w.Set("arr.i32", GgufValue.Array(GgufValueType.Int32, new[] { 1, -2, 3 }));
        w.Set("arr.f32", GgufValue.Array(GgufValueType.Float32, new[] { 0.5f, -0.25f }));
        w.Set("arr.bool", GgufValue.Array(GgufValueType.Bool, new[] { true, false }));
        w.Set("arr.u8", GgufValue.Array(GgufValueType.UInt8, new byte[] { 1, 2, 255 }));
        w.Set("arr.nested", GgufValue.Array(GgufValueType.Array, new[]
        {
            new GgufArray(GgufValueType.UInt64, new ulong[] { 7, 8 }),
            new GgufArray(GgufValueType.String, new[] { "x" }),
        }));
        return w;
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(3u)]
    public void Every_value_type_round_trips(uint version)
    {
        var bytes = EveryValueType(version).ToArray();
        using var file = GgufFile.Read(bytes);
        Assert.Equal(version, file.Version);
        Assert.Equal((byte)250, file.Metadata["u8"].Value);
        Assert.Equal((sbyte)-120, file.Metadata["i8"].Value);
        Assert.Equal((ushort)65000, file.Metadata["u16"].Value);
        Assert.Equal((short)-32000, file.Metadata["i16"].Value);
        Assert.Equal(4_000_000_000u, file.Metadata["u32"].Value);
        Assert.Equal(-2_000_000_000, file.Metadata["i32"].Value);
        Assert.Equal(3.14159f, file.Metadata["f32"].Value);
        Assert.Equal(true, file.Metadata["bool"].Value);
        Assert.Equal("héllo 你好 👋", file.Metadata["str"].Value);
        Assert.Equal(ulong.MaxValue, file.Metadata["u64"].Value);
        Assert.Equal(long.MinValue, file.Metadata["i64"].Value);
        Assert.Equal(-1e300, file.Metadata["f64"].Value);
        Assert.Equal(new[] { "a", "", "中文" }, (string[])file.TryGetArray("arr.str")!.Items);
        Assert.Equal(new[] { 1, -2, 3 }, (int[])file.TryGetArray("arr.i32")!.Items);
        Assert.Equal(new[] { 0.5f, -0.25f }, (float[])file.TryGetArray("arr.f32")!.Items);
        Assert.Equal(new[] { true, false }, (bool[])file.TryGetArray("arr.bool")!.Items);
        Assert.Equal(new byte[] { 1, 2, 255 }, (byte[])file.TryGetArray("arr.u8")!.Items);
        var nested = (GgufArray[])file.TryGetArray("arr.nested")!.Items;
        Assert.Equal(new ulong[] { 7, 8 }, (ulong[])nested[0].Items);
        Assert.Equal(new[] { "x" }, (string[])nested[1].Items);
        Assert.Equal(EveryValueType(version).ToArray(), new GgufWriter { Version = version }.CopyMetadata(file).ToArray());
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(256)]
    public void Tensors_round_trip_at_the_declared_alignment(int alignment)
    {
        var w = new GgufWriter();
        w.Set("general.architecture", "test");
        w.Set(GgufKeys.Alignment, (uint)alignment);
        var a = Enumerable.Range(0, 3 * 5).Select(i => (byte)i).SelectMany(b => new byte[] { b, 0, 0, 0 }).ToArray();
        var q = Enumerable.Range(0, 34 * 2).Select(i => (byte)(i * 7)).ToArray();
        w.AddTensor("a", GgmlType.F32, [5, 3], a);
        w.AddTensor("q", GgmlType.Q8_0, [32, 2], q);
        using var file = GgufFile.Read(w.ToArray());
        Assert.Equal(alignment, file.Alignment);
        Assert.Equal(0, file.DataOffset % alignment);
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % alignment));
        Assert.Equal(a, file.GetTensor("a").Bytes.ToArray());
        Assert.Equal(q, file.GetTensor("q").Bytes.ToArray());
        Assert.Equal(new long[] { 32, 2 }, file.FindTensor("q")!.Shape);
    }

    [Fact]
    public void Rewriting_a_real_file_reproduces_it_byte_for_byte()
    {
        var path = TestPaths.SharedFile("models", "tiny", "tiny-qwen2-q4_k_m.gguf");
        var original = File.ReadAllBytes(path);
        using var file = GgufFile.Read(original);
        var w = new GgufWriter { Version = file.Version }.CopyMetadata(file);
        foreach (var t in file.Tensors)
        {
            w.AddTensor(t.Name, t.Type, t.Shape, file.GetTensor(t.Name).Bytes.ToArray());
        }
        Assert.Equal(original, w.ToArray());
    }

    [Fact]
    public void Save_replaces_the_target_atomically_and_leaves_no_temporary_files()
    {
        var dir = TestPaths.TempDir();
        var path = Path.Combine(dir, "m.gguf");
        File.WriteAllText(path, "old contents");
        EveryValueType(3).Save(path);
        using (var file = GgufFile.Open(path))
        {
            Assert.Equal("llama", file.Architecture);
        }
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void Wrong_sized_tensor_data_is_refused()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.Q4_0, [32, 2], new byte[10]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("y", GgmlType.Q4_0, [31], new byte[18]));
    }
}
