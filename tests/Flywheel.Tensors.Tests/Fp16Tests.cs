namespace Flywheel.Tensors.Tests;

/// <summary>
/// Fp16 must equal ggml's GGML_FP16_TO_FP32 / GGML_FP32_TO_FP16: IEEE conversions with round-to-nearest-even,
/// except that NaNs come back quiet when widened and become 0x7E00 when narrowed. System.Half is the IEEE oracle.
/// </summary>
public class Fp16Tests
{
    [Fact]
    public void Widening_is_exact_for_all_65536_bit_patterns()
    {
        for (int h = 0; h <= ushort.MaxValue; h++)
        {
            float actual = Fp16.ToFloat((ushort)h);
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            if (float.IsNaN(expected))
            {
                uint sign = (uint)(h & 0x8000) << 16;
                uint quietWithPayload = sign | 0x7FC00000u | ((uint)(h & 0x3FF) << 13);
                Assert.Equal(quietWithPayload, BitConverter.SingleToUInt32Bits(actual));
            }
            else
            {
                Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(actual));
            }
        }
    }

    [Fact]
    public void Every_half_survives_a_round_trip_and_nans_become_canonical()
    {
        for (int h = 0; h <= ushort.MaxValue; h++)
        {
            ushort back = Fp16.FromFloat(Fp16.ToFloat((ushort)h));
            bool isNaN = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
            ushort expected = isNaN ? (ushort)((h & 0x8000) | 0x7E00) : (ushort)h;
            Assert.Equal(expected, back);
        }
    }

    [Fact]
    public void Narrowing_rounds_ties_to_even_at_every_half_midpoint()
    {
        // Between two adjacent finite halves the midpoint is exact in float; it and its float neighbours must
        // round the way IEEE says. This covers normal, subnormal and the overflow boundary above 65504.
        for (int h = 0; h < 0x7C00; h++)
        {
            float low = Fp16.ToFloat((ushort)h);
            float high = h + 1 == 0x7C00 ? 65536f : Fp16.ToFloat((ushort)(h + 1));
            float mid = (low + high) / 2;
            foreach (float f in new[] { mid, MathF.BitDecrement(mid), MathF.BitIncrement(mid), low, -mid, -MathF.BitIncrement(mid) })
            {
                AssertMatchesIeee(f);
            }
        }
    }

    [Fact]
    public void Narrowing_matches_ieee_on_a_stride_through_all_floats()
    {
        for (ulong bits = 0; bits <= uint.MaxValue; bits += 65521)
        {
            float f = BitConverter.UInt32BitsToSingle((uint)bits);
            if (!float.IsNaN(f))
            {
                AssertMatchesIeee(f);
            }
        }
    }

    [Theory]
    [InlineData(0f, 0x0000)]
    [InlineData(-0f, 0x8000)]
    [InlineData(1f, 0x3C00)]
    [InlineData(-2f, 0xC000)]
    [InlineData(65504f, 0x7BFF)]
    [InlineData(65519.996f, 0x7BFF)]
    [InlineData(65520f, 0x7C00)]
    [InlineData(1e10f, 0x7C00)]
    [InlineData(float.PositiveInfinity, 0x7C00)]
    [InlineData(float.NegativeInfinity, 0xFC00)]
    [InlineData(5.9604645e-8f, 0x0001)]   // 2^-24, smallest subnormal
    [InlineData(2.9802322e-8f, 0x0000)]   // 2^-25 ties to even (zero)
    [InlineData(2.9802326e-8f, 0x0001)]   // just above 2^-25
    [InlineData(6.1035156e-5f, 0x0400)]   // 2^-14, smallest normal
    [InlineData(1.00048828125f, 0x3C00)]  // 1 + 2^-11 ties down to even
    [InlineData(1.00146484375f, 0x3C02)]  // 1 + 3 * 2^-11 ties up to even
    public void Narrowing_edge_cases(float value, int expected) => Assert.Equal((ushort)expected, Fp16.FromFloat(value));

    [Fact]
    public void Narrowing_any_nan_gives_the_canonical_quiet_nan_with_its_sign()
    {
        Assert.Equal(0x7E00, Fp16.FromFloat(BitConverter.UInt32BitsToSingle(0x7F800001)));
        Assert.Equal(0x7E00, Fp16.FromFloat(BitConverter.UInt32BitsToSingle(0x7FFFFFFF)));
        Assert.Equal(0xFE00, Fp16.FromFloat(BitConverter.UInt32BitsToSingle(0xFFC00000)));
    }

    private static void AssertMatchesIeee(float f)
    {
        ushort expected = BitConverter.HalfToUInt16Bits((Half)f);
        Assert.True(expected == Fp16.FromFloat(f), $"{f:R} (0x{BitConverter.SingleToUInt32Bits(f):X8}): expected 0x{expected:X4}, got 0x{Fp16.FromFloat(f):X4}");
    }
}
