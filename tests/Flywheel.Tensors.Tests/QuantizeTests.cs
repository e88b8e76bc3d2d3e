namespace Flywheel.Tensors.Tests;

public partial class QuantizeTests
{
    /// <summary>
    /// Our quantization of source.f32 must produce the very bytes llama-quantize wrote. The message counts the
    /// differing blocks so a regression shows how widespread it is.
    /// </summary>
    [Theory]
    [MemberData(nameof(FixtureTypes))]
    public void Matches_llama_quantize_byte_for_byte_on_golden_files(string typeName)
    {
        Assert.True(typeName != LlamaCppFixtures.Missing, $"golden files not found in {LlamaCppFixtures.Directory}");
        var manifest = LlamaCppFixtures.Load();
        var entry = LlamaCppFixtures.Find(manifest, typeName);
        var type = LlamaCppFixtures.ParseType(typeName);
        Assert.True(Quantize.IsSupported(type), $"{typeName} has golden files but no quantizer");

        float[] source = LlamaCppFixtures.ReadFloats(manifest.Source);
        byte[] expected = LlamaCppFixtures.ReadBytes(entry.Quant);
        int rowBytes = checked((int)GgmlTypeInfo.RowBytes(type, manifest.Cols));
        Assert.Equal(manifest.Rows * manifest.Cols, source.Length);
        Assert.Equal(rowBytes * manifest.Rows, expected.Length);

        var actual = new byte[expected.Length];
        for (int r = 0; r < manifest.Rows; r++)
        {
            Quantize.Row(type, source.AsSpan(r * manifest.Cols, manifest.Cols), actual.AsSpan(r * rowBytes, rowBytes));
        }

        int blockBytes = GgmlTypeInfo.Get(type).TypeSize;
        int blocks = expected.Length / blockBytes;
        int differing = 0;
        int first = -1;
        for (int b = 0; b < blocks; b++)
        {
            if (!expected.AsSpan(b * blockBytes, blockBytes).SequenceEqual(actual.AsSpan(b * blockBytes, blockBytes)))
            {
                differing++;
                first = first < 0 ? b : first;
            }
        }
        Assert.True(differing == 0,
            $"{typeName} ({entry.MadeBy}): {differing} of {blocks} blocks differ from llama.cpp; first is block {first}:\n" +
            $"  expected {Hex(expected, first, blockBytes)}\n  actual   {Hex(actual, first, blockBytes)}");
    }

    public static TheoryData<string> FixtureTypes() => LlamaCppFixtures.TypeNames();

    [Fact]
    public void Rejects_unsupported_types_and_mismatched_lengths()
    {
        Assert.False(Quantize.IsSupported(GgmlType.IQ2_XXS));
        Assert.Throws<NotSupportedException>(() => Quantize.Row(GgmlType.IQ2_XXS, new float[256], new byte[66]));
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q8_0, new float[33], new byte[34]));
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q8_0, new float[32], new byte[35]));
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q6_K, new float[128], new byte[210]));
    }

    [Fact]
    public void Every_dequantizable_type_except_q8_1_has_a_quantizer_and_back()
    {
        // Q8_1 exists only as a dot-product operand; ggml has no dequantizer for it.
        foreach (GgmlType type in Enum.GetValues<GgmlType>())
        {
            Assert.Equal(Dequantize.IsSupported(type), Quantize.IsSupported(type) && type != GgmlType.Q8_1);
        }
    }

    [Fact]
    public void Q8_1_stores_the_scaled_sum_of_its_codes()
    {
        var x = Enumerable.Range(0, 32).Select(i => (i - 10) * 0.1f).ToArray();
        var bytes = new byte[36];
        Quantize.Row(GgmlType.Q8_1, x, bytes);
        // ggml multiplies by the float scale, before it is rounded to half for the d field.
        float d = x.Max(MathF.Abs) / 127;
        int sum = bytes.Skip(4).Sum(b => (int)(sbyte)b);
        Assert.Equal(Fp16.FromFloat(d), BitConverter.ToUInt16(bytes, 0));
        Assert.Equal(Fp16.FromFloat(sum * d), BitConverter.ToUInt16(bytes, 2));
        Assert.Equal(127, (sbyte)bytes[4 + 31]); // the largest magnitude maps to +-127
    }

    private static string Hex(byte[] data, int block, int blockBytes) =>
        block < 0 ? "" : Convert.ToHexString(data, block * blockBytes, blockBytes);
}
