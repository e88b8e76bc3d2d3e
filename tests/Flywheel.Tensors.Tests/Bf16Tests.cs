namespace Flywheel.Tensors.Tests;

/// <summary>Bf16 must equal ggml's ggml_compute_fp32_to_bf16 / ggml_compute_bf16_to_fp32.</summary>
public class Bf16Tests
{
    [Fact]
    public void Widening_puts_the_bits_on_top_for_all_65536_patterns()
    {
        for (int b = 0; b <= ushort.MaxValue; b++)
        {
            Assert.Equal((uint)b << 16, BitConverter.SingleToUInt32Bits(Bf16.ToFloat((ushort)b)));
        }
    }

    [Fact]
    public void Every_bf16_survives_a_round_trip_and_nans_are_forced_quiet()
    {
        for (int b = 0; b <= ushort.MaxValue; b++)
        {
            bool isNaN = (b & 0x7F80) == 0x7F80 && (b & 0x7F) != 0;
            ushort expected = isNaN ? (ushort)(b | 0x40) : (ushort)b;
            Assert.Equal(expected, Bf16.FromFloat(Bf16.ToFloat((ushort)b)));
        }
    }

    [Fact]
    public void Narrowing_rounds_to_nearest_with_ties_to_even()
    {
        for (int b = 0; b <= ushort.MaxValue; b++)
        {
            if ((b & 0x7F80) == 0x7F80)
            {
                continue; // infinities and NaNs have no upper neighbour to round to
            }
            uint baseBits = (uint)b << 16;
            ushort up = (ushort)(b + 1);
            ushort even = (b & 1) == 0 ? (ushort)b : up;
            Assert.Equal((ushort)b, Bf16.FromFloat(BitConverter.UInt32BitsToSingle(baseBits | 0x7FFF)));
            Assert.Equal(even, Bf16.FromFloat(BitConverter.UInt32BitsToSingle(baseBits | 0x8000)));
            Assert.Equal(up, Bf16.FromFloat(BitConverter.UInt32BitsToSingle(baseBits | 0x8001)));
        }
    }

    [Theory]
    [InlineData(0x7F7FFFFFu, 0x7F80)] // largest float rounds up to infinity
    [InlineData(0x7F800000u, 0x7F80)] // infinity
    [InlineData(0x7F800001u, 0x7FC0)] // signalling NaN: truncated, then bit 6 forced
    [InlineData(0xFFC12345u, 0xFFC1)] // negative quiet NaN keeps sign and top payload
    [InlineData(0x80000000u, 0x8000)] // -0
    [InlineData(0x00000001u, 0x0000)] // smallest subnormal rounds to zero
    [InlineData(0x3F808000u, 0x3F80)] // 1.00390625 ties to even (down)
    [InlineData(0x3F818000u, 0x3F82)] // ties to even (up)
    public void Narrowing_edge_cases(uint floatBits, int expected) =>
        Assert.Equal((ushort)expected, Bf16.FromFloat(BitConverter.UInt32BitsToSingle(floatBits)));
}
