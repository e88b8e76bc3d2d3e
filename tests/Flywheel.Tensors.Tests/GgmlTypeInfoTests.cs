using System.Runtime.CompilerServices;

namespace Flywheel.Tensors.Tests;

/// <summary>Block structs must match ggml-common.h byte for byte, or every offset into a GGUF file is wrong.</summary>
public class GgmlTypeInfoTests
{
    [Fact]
    public void Block_struct_sizes_match_ggml_and_the_type_table()
    {
        AssertBlock<BlockQ4_0>(GgmlType.Q4_0, 18, BlockQ4_0.Elements);
        AssertBlock<BlockQ4_1>(GgmlType.Q4_1, 20, BlockQ4_1.Elements);
        AssertBlock<BlockQ5_0>(GgmlType.Q5_0, 22, BlockQ5_0.Elements);
        AssertBlock<BlockQ5_1>(GgmlType.Q5_1, 24, BlockQ5_1.Elements);
        AssertBlock<BlockQ8_0>(GgmlType.Q8_0, 34, BlockQ8_0.Elements);
        AssertBlock<BlockQ8_1>(GgmlType.Q8_1, 36, BlockQ8_1.Elements);
        AssertBlock<BlockQ2K>(GgmlType.Q2_K, 84, BlockQ2K.Elements);
        AssertBlock<BlockQ3K>(GgmlType.Q3_K, 110, BlockQ3K.Elements);
        AssertBlock<BlockQ4K>(GgmlType.Q4_K, 144, BlockQ4K.Elements);
        AssertBlock<BlockQ5K>(GgmlType.Q5_K, 176, BlockQ5K.Elements);
        AssertBlock<BlockQ6K>(GgmlType.Q6_K, 210, BlockQ6K.Elements);
        AssertBlock<BlockQ8K>(GgmlType.Q8_K, 292, BlockQ8K.Elements);
        AssertBlock<BlockIQ4_NL>(GgmlType.IQ4_NL, 18, BlockIQ4_NL.Elements);
        AssertBlock<BlockIQ4XS>(GgmlType.IQ4_XS, 136, BlockIQ4XS.Elements);
        AssertBlock<BlockMXFP4>(GgmlType.MXFP4, 17, BlockMXFP4.Elements);
        AssertBlock<BlockTQ1_0>(GgmlType.TQ1_0, 54, BlockTQ1_0.Elements);
        AssertBlock<BlockTQ2_0>(GgmlType.TQ2_0, 66, BlockTQ2_0.Elements);
        AssertBlock<BlockIQ2XXS>(GgmlType.IQ2_XXS, 66, BlockIQ2XXS.Elements);
        AssertBlock<BlockIQ2XS>(GgmlType.IQ2_XS, 74, BlockIQ2XS.Elements);
        AssertBlock<BlockIQ2S>(GgmlType.IQ2_S, 82, BlockIQ2S.Elements);
        AssertBlock<BlockIQ3XXS>(GgmlType.IQ3_XXS, 98, BlockIQ3XXS.Elements);
        AssertBlock<BlockIQ3S>(GgmlType.IQ3_S, 110, BlockIQ3S.Elements);
        AssertBlock<BlockIQ1S>(GgmlType.IQ1_S, 50, BlockIQ1S.Elements);
        AssertBlock<BlockIQ1M>(GgmlType.IQ1_M, 56, BlockIQ1M.Elements);
    }

    [Fact]
    public unsafe void Field_offsets_follow_ggml_common_h()
    {
        // Spot checks of the fields whose position is easiest to get wrong.
        BlockQ2K q2 = default;
        Assert.Equal(80, (int)((byte*)&q2.D - (byte*)&q2));
        BlockQ3K q3 = default;
        Assert.Equal(96, (int)((byte*)q3.Scales - (byte*)&q3));
        Assert.Equal(108, (int)((byte*)&q3.D - (byte*)&q3));
        BlockQ5K q5 = default;
        Assert.Equal(16, (int)((byte*)q5.Qh - (byte*)&q5));
        BlockQ6K q6 = default;
        Assert.Equal(192, (int)((byte*)q6.Scales - (byte*)&q6));
        BlockQ8K q8 = default;
        Assert.Equal(260, (int)((byte*)q8.BSums - (byte*)&q8));
        BlockIQ4XS xs = default;
        Assert.Equal(2, (int)((byte*)&xs.ScalesH - (byte*)&xs));
        Assert.Equal(8, (int)((byte*)xs.Qs - (byte*)&xs));
        BlockTQ1_0 tq1 = default;
        Assert.Equal(48, (int)((byte*)tq1.Qh - (byte*)&tq1));
        Assert.Equal(52, (int)((byte*)&tq1.D - (byte*)&tq1));
    }

    private static void AssertBlock<T>(GgmlType type, int bytes, int elements)
        where T : unmanaged
    {
        Assert.Equal(bytes, Unsafe.SizeOf<T>());
        Assert.Equal(bytes, GgmlTypeInfo.Get(type).TypeSize);
        Assert.Equal(elements, GgmlTypeInfo.Get(type).BlockSize);
    }
}
