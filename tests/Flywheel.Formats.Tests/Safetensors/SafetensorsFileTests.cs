using System.Buffers.Binary;
using System.Text;
using Flywheel.Formats.Safetensors;
using Flywheel.Testing;

namespace Flywheel.Formats.Tests.Safetensors;

public class SafetensorsFileTests
{
    private static string Write(Action<SafetensorsWriter> fill)
    {
        var path = Path.Combine(TestPaths.TempDir(), "m.safetensors");
        var w = new SafetensorsWriter();
        fill(w);
        w.Save(path);
        return path;
    }

    [Fact]
    public void Reads_every_supported_dtype_and_converts_floats_exactly()
    {
        float[] values = [0f, 1f, -2.5f, 65504f, 1e-3f, float.NegativeInfinity];
        var f16 = new byte[values.Length * 2];
        var bf16 = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(f16.AsSpan(i * 2), (Half)values[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(bf16.AsSpan(i * 2), (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16));
        }
        var path = Write(w => w
            .SetMetadata("format", "pt")
            .AddFloat32("f32", [2, 3], values)
            .Add("f16", SafetensorsDType.F16, [6], f16)
            .Add("bf16", SafetensorsDType.BF16, [3, 2], bf16)
            .Add("i8", SafetensorsDType.I8, [4], new byte[] { 1, 255, 3, 128 })
            .Add("u8", SafetensorsDType.U8, [2, 2], new byte[] { 9, 8, 7, 6 }));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(5, file.Tensors.Count);
        var dst = new float[6];
        file.ReadAsFloat32("f32", dst);
        Assert.Equal(values, dst);
        file.ReadAsFloat32("f16", dst);
        Assert.Equal(values.Select(v => (float)(Half)v), dst);
        file.ReadAsFloat32("bf16", dst);
        Assert.Equal(values.Select(v => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(v) & 0xFFFF0000)), dst);
        Assert.Equal(new byte[] { 1, 255, 3, 128 }, file.GetBytes("i8").ToArray());
        Assert.Equal(new long[] { 2, 2 }, file.Find("u8")!.Shape);
        Assert.Equal(0, file.DataOffset % 8);
    }

    [Fact]
    public void Truncated_data_names_the_tensor_and_offset()
    {
        var path = Write(w => w.AddFloat32("w", [64], new float[64]));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^20]);
        var ex = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains("'w'", ex.Message);
        Assert.Contains("past the end", ex.Message);
        Assert.NotNull(ex.Offset);
    }

    [Fact]
    public void Absurd_header_size_and_bad_json_are_refused()
    {
        var path = Path.Combine(TestPaths.TempDir(), "bad.safetensors");
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        File.WriteAllBytes(path, bytes);
        Assert.Equal(0, Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path)).Offset);

        var json = Encoding.UTF8.GetBytes("{\"w\": {\"dtype\": \"F32\"");
        bytes = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("not valid JSON", Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path)).Message);
    }

    [Theory]
    [InlineData("{\"w\": {\"dtype\": \"Q4\", \"shape\": [1], \"data_offsets\": [0, 4]}}", "unknown dtype")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", "takes 8 bytes")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", "invalid dimension")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", "invalid data_offsets")]
    [InlineData("[1, 2]", "must be a JSON object")]
    public void Malformed_entries_are_refused(string header, string expected)
    {
        var path = Path.Combine(TestPaths.TempDir(), "bad.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        Assert.Contains(expected, Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path)).Message);
    }
}
