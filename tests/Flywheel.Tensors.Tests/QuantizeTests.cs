namespace Flywheel.Tensors.Tests;

public partial class QuantizeTests
{
    /// <summary>
    /// Our quantization of source.f32 must produce the very bytes llama-quantize wrote. The message counts the
    /// differing blocks so a regression shows how widespread it is.
    /// </summary>
    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Matches_llama_quantize_byte_for_byte_on_golden_files(string folder, string typeName)
    {
        Assert.True(typeName != LlamaCppFixtures.Missing, $"golden files not found in {LlamaCppFixtures.Root}/{folder}");
        var manifest = LlamaCppFixtures.Load(folder);
        var entry = manifest.Find(typeName);
        var type = LlamaCppFixtures.ParseType(typeName);
        Assert.True(Quantize.IsSupported(type), $"{typeName} has golden files but no quantizer");

        float[] source = manifest.ReadFloats(manifest.Source!);
        byte[] expected = manifest.ReadBytes(entry.Quant);
        int rowBytes = checked((int)GgmlTypeInfo.RowBytes(type, manifest.Cols));
        Assert.Equal(manifest.Rows * manifest.Cols, source.Length);
        Assert.Equal(rowBytes * manifest.Rows, expected.Length);

        float[] importance = manifest.Importance is null ? [] : manifest.ReadFloats(manifest.Importance);
        var actual = new byte[expected.Length];
        for (int r = 0; r < manifest.Rows; r++)
        {
            Quantize.Row(type, source.AsSpan(r * manifest.Cols, manifest.Cols), actual.AsSpan(r * rowBytes, rowBytes), importance);
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

    public static TheoryData<string, string> FixtureCases() => LlamaCppFixtures.Cases(needSource: true);

    [Fact]
    public void Rejects_unsupported_types_and_mismatched_lengths()
    {
        Assert.False(Quantize.IsSupported(GgmlType.I32));
        Assert.Throws<NotSupportedException>(() => Quantize.Row(GgmlType.I32, new float[1], new byte[4]));
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q8_0, new float[33], new byte[34]));
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q8_0, new float[32], new byte[35]));
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q6_K, new float[128], new byte[210]));
    }

    [Fact]
    public void Quantizers_and_dequantizers_cover_the_expected_types()
    {
        // Q8_1 exists only as a dot-product operand: ggml quantizes to it but has no dequantizer for it.
        foreach (GgmlType type in Enum.GetValues<GgmlType>())
        {
            Assert.Equal(Dequantize.IsSupported(type) || type == GgmlType.Q8_1, Quantize.IsSupported(type));
        }
        foreach (GgmlType type in Enum.GetValues<GgmlType>())
        {
            bool isFormat = GgmlTypeInfo.IsKnown(type);
            bool isPlainInteger = type is GgmlType.I8 or GgmlType.I16 or GgmlType.I32 or GgmlType.I64 or GgmlType.F64;
            Assert.Equal(isFormat && !isPlainInteger && type != GgmlType.Q8_1, Dequantize.IsSupported(type));
        }
    }

    [Theory]
    [InlineData(GgmlType.IQ2_XXS)]
    [InlineData(GgmlType.IQ2_XS)]
    [InlineData(GgmlType.IQ1_S)]
    public void Formats_that_need_importance_refuse_to_quantize_without(GgmlType type)
    {
        Assert.True(Quantize.NeedsImportance(type));
        Assert.Throws<ArgumentException>(() => Quantize.Row(type, new float[256], new byte[GgmlTypeInfo.RowBytes(type, 256)]));
    }

    [Fact]
    public void Importance_must_match_the_row_length()
    {
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q4_K, new float[256], new byte[144], new float[255]));
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, false)]
    [InlineData(GgmlType.Q4_0, false)]
    [InlineData(GgmlType.IQ4_XS, false)]
    [InlineData(GgmlType.Q8_0, true)]
    [InlineData(GgmlType.F16, true)]
    [InlineData(GgmlType.MXFP4, true)]
    [InlineData(GgmlType.TQ2_0, true)]
    public void Importance_changes_the_bytes_only_where_ggml_uses_it(GgmlType type, bool ignored)
    {
        float[] x = MakeInput("outliers", 512, seed: 11);
        var rng = new Random(12);
        float[] importance = Enumerable.Range(0, 512).Select(_ => (float)Math.Exp(rng.NextDouble() * 6 - 3)).ToArray();
        var plain = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
        var empty = new byte[plain.Length];
        var weighted = new byte[plain.Length];
        Quantize.Row(type, x, plain);
        Quantize.Row(type, x, empty, ReadOnlySpan<float>.Empty);
        Quantize.Row(type, x, weighted, importance);
        Assert.Equal(plain, empty);
        Assert.Equal(ignored, plain.AsSpan().SequenceEqual(weighted));
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
