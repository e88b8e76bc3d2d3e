namespace Flywheel.Tensors.Tests;

public class DequantizeTests
{
    /// <summary>
    /// Our dequantization of the bytes llama-quantize wrote must equal llama.cpp's own, bit for bit
    /// (not within a tolerance: the reference is the spec for every kernel built on it).
    /// </summary>
    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Matches_llama_cpp_bit_for_bit_on_golden_files(string folder, string typeName)
    {
        Assert.True(typeName != LlamaCppFixtures.Missing, $"golden files not found in {LlamaCppFixtures.Root}/{folder}");
        var manifest = LlamaCppFixtures.Load(folder);
        var entry = manifest.Find(typeName);
        var type = LlamaCppFixtures.ParseType(typeName);
        Assert.True(Dequantize.IsSupported(type), $"{typeName} has golden files but no dequantizer");

        byte[] quantized = manifest.ReadBytes(entry.Quant);
        float[] expected = manifest.ReadFloats(entry.Dequant);
        int rowBytes = checked((int)GgmlTypeInfo.RowBytes(type, manifest.Cols));
        Assert.Equal(rowBytes * manifest.Rows, quantized.Length);
        Assert.Equal(manifest.Rows * manifest.Cols, expected.Length);

        var actual = new float[expected.Length];
        for (int r = 0; r < manifest.Rows; r++)
        {
            Dequantize.Row(type, quantized.AsSpan(r * rowBytes, rowBytes), actual.AsSpan(r * manifest.Cols, manifest.Cols));
        }

        int differing = 0;
        int first = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
            {
                differing++;
                first = first < 0 ? i : first;
            }
        }
        Assert.True(differing == 0,
            $"{typeName}: {differing} of {expected.Length} floats differ from llama.cpp; first at {first}: " +
            $"expected {(first < 0 ? 0 : expected[first]):R}, got {(first < 0 ? 0 : actual[first]):R}");
    }

    public static TheoryData<string, string> FixtureCases() => LlamaCppFixtures.Cases(needSource: false);

    [Fact]
    public void Hand_built_q4_0_block_decodes_per_the_layout()
    {
        // d = 0.5 (half 0x3800); byte j holds code j & 15 in the low nibble and 15 - j in the high nibble.
        var block = new byte[18];
        block[0] = 0x00;
        block[1] = 0x38;
        for (int j = 0; j < 16; j++)
        {
            block[2 + j] = (byte)(j | ((15 - j) << 4));
        }
        var y = new float[32];
        Dequantize.Row(GgmlType.Q4_0, block, y);
        for (int j = 0; j < 16; j++)
        {
            Assert.Equal((j - 8) * 0.5f, y[j]);
            Assert.Equal((15 - j - 8) * 0.5f, y[j + 16]);
        }
    }

    [Fact]
    public void Hand_built_q8_k_block_uses_its_float_scale()
    {
        var block = new byte[292];
        BitConverter.TryWriteBytes(block.AsSpan(0, 4), 0.25f);
        for (int j = 0; j < 256; j++)
        {
            block[4 + j] = unchecked((byte)(sbyte)(j - 128));
        }
        var y = new float[256];
        Dequantize.Row(GgmlType.Q8_K, block, y);
        for (int j = 0; j < 256; j++)
        {
            Assert.Equal((j - 128) * 0.25f, y[j]);
        }
    }

    [Fact]
    public void Rejects_unsupported_types_and_mismatched_lengths()
    {
        Assert.False(Dequantize.IsSupported(GgmlType.I32));
        Assert.Throws<NotSupportedException>(() => Dequantize.Row(GgmlType.I32, new byte[4], new float[1]));
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_0, new byte[18], new float[31]));
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_0, new byte[17], new float[32]));
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_K, new byte[144], new float[512]));
    }

    [Fact]
    public void Empty_rows_are_allowed()
    {
        foreach (GgmlType type in Enum.GetValues<GgmlType>().Where(Dequantize.IsSupported))
        {
            Dequantize.Row(type, ReadOnlySpan<byte>.Empty, Span<float>.Empty);
        }
    }
}
