using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Flywheel.Kernels.Reference;

namespace Flywheel.Models.Tests.KvCache;

/// <summary>
/// The attention block writes keys and values into the F16 cache with TensorPrimitives.ConvertToHalf; the kernels'
/// reference rounds with <see cref="Half16.FromFloat"/>. Both must give the same bits, or the cache would differ from
/// what the reference attention was checked against.
/// </summary>
public sealed class HalfConversionTests
{
    [Fact]
    public void Vector_conversion_gives_the_bits_of_Half16_FromFloat()
    {
        // Every 61st bit pattern (all exponents and signs, normal, subnormal, overflow, NaN), then the neighbours of
        // every binary16 rounding boundary, where ties-to-even is decided.
        var values = new List<float>();
        for (long bits = 0; bits <= uint.MaxValue; bits += 61) values.Add(BitConverter.UInt32BitsToSingle((uint)bits));
        for (var h = 0; h < 0x7C00; h++)
        {
            var boundary = BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf((ushort)h)) + (1u << 12);
            for (var d = -2; d <= 2; d++)
            {
                values.Add(BitConverter.UInt32BitsToSingle((uint)(boundary + d)));
                values.Add(-BitConverter.UInt32BitsToSingle((uint)(boundary + d)));
            }
        }
        var source = values.ToArray();
        var converted = new ushort[source.Length];
        TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<ushort, Half>(converted.AsSpan()));
        for (var i = 0; i < source.Length; i++)
        {
            if (float.IsNaN(source[i]))
            {
                Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(converted[i])), $"NaN {BitConverter.SingleToUInt32Bits(source[i]):X8} did not stay NaN");
                continue;
            }
            if (converted[i] != Half16.FromFloat(source[i]))
            {
                Assert.Fail($"{source[i]:R} ({BitConverter.SingleToUInt32Bits(source[i]):X8}): {converted[i]:X4}, Half16.FromFloat {Half16.FromFloat(source[i]):X4}");
            }
        }
    }
}
