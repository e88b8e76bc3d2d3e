using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// Scalar reference quantizers. Each reproduces the bytes llama.cpp's <c>llama-quantize</c> writes: without an
/// importance matrix, <c>quantize_row_*_ref</c> in ggml-quants.c (and the no-weights path of
/// <c>quantize_iq4_nl</c> / <c>quantize_iq4_xs</c>); with one (the <c>importance</c> overload of Row), the
/// <c>quantize_row_*_impl</c> functions. Float expressions keep ggml's operation order and x86-64 C conversion
/// rules so the bytes come out identical, not merely close. All methods are stateless, thread-safe and
/// allocation-free (scratch lives on the stack). Output is little-endian, as GGUF stores it.
/// </summary>
public static partial class Quantize
{
    /// <summary>True when <see cref="Row"/> can encode <paramref name="type"/>.</summary>
    public static bool IsSupported(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => true,
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 or GgmlType.Q8_1 => true,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K => true,
        GgmlType.IQ4_NL or GgmlType.IQ4_XS => true,
        GgmlType.MXFP4 or GgmlType.TQ1_0 or GgmlType.TQ2_0 => true,
        GgmlType.IQ3_XXS or GgmlType.IQ3_S or GgmlType.IQ2_XXS or GgmlType.IQ2_XS or GgmlType.IQ2_S => true,
        GgmlType.IQ1_S or GgmlType.IQ1_M => true,
        _ => false,
    };

    /// <summary>
    /// Encodes <paramref name="src"/> as <paramref name="type"/> into <paramref name="dst"/>. The element count must
    /// be a whole number of blocks and <paramref name="dst"/> must be exactly <see cref="GgmlTypeInfo.RowBytes"/>
    /// long. Blocks are independent, so encoding several rows at once gives the same bytes as one row at a time.
    /// Formats that ggml quantizes only with an importance matrix (<see cref="NeedsImportance"/>: IQ2_XXS, IQ2_XS,
    /// IQ1_S) throw <see cref="ArgumentException"/> here; use the overload that takes importance weights.
    /// </summary>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        Validate(type, src.Length, dst.Length);
        switch (type)
        {
            case GgmlType.F32: src.CopyTo(MemoryMarshal.Cast<byte, float>(dst)); break;
            case GgmlType.F16: Fp16.FromFloat(src, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case GgmlType.BF16: Bf16.FromFloat(src, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case GgmlType.Q4_0: Q4_0(src, MemoryMarshal.Cast<byte, BlockQ4_0>(dst)); break;
            case GgmlType.Q4_1: Q4_1(src, MemoryMarshal.Cast<byte, BlockQ4_1>(dst)); break;
            case GgmlType.Q5_0: Q5_0(src, MemoryMarshal.Cast<byte, BlockQ5_0>(dst)); break;
            case GgmlType.Q5_1: Q5_1(src, MemoryMarshal.Cast<byte, BlockQ5_1>(dst)); break;
            case GgmlType.Q8_0: Q8_0(src, MemoryMarshal.Cast<byte, BlockQ8_0>(dst)); break;
            case GgmlType.Q8_1: Q8_1(src, MemoryMarshal.Cast<byte, BlockQ8_1>(dst)); break;
            case GgmlType.Q2_K: Q2_K(src, MemoryMarshal.Cast<byte, BlockQ2K>(dst)); break;
            case GgmlType.Q3_K: Q3_K(src, MemoryMarshal.Cast<byte, BlockQ3K>(dst)); break;
            case GgmlType.Q4_K: Q4_K(src, MemoryMarshal.Cast<byte, BlockQ4K>(dst)); break;
            case GgmlType.Q5_K: Q5_K(src, MemoryMarshal.Cast<byte, BlockQ5K>(dst)); break;
            case GgmlType.Q6_K: Q6_K(src, MemoryMarshal.Cast<byte, BlockQ6K>(dst)); break;
            case GgmlType.Q8_K: Q8_K(src, MemoryMarshal.Cast<byte, BlockQ8K>(dst)); break;
            case GgmlType.IQ4_NL: IQ4_NL(src, MemoryMarshal.Cast<byte, BlockIQ4_NL>(dst)); break;
            case GgmlType.IQ4_XS: IQ4_XS(src, MemoryMarshal.Cast<byte, BlockIQ4XS>(dst)); break;
            case GgmlType.MXFP4: MXFP4(src, MemoryMarshal.Cast<byte, BlockMXFP4>(dst)); break;
            case GgmlType.TQ1_0: TQ1_0(src, MemoryMarshal.Cast<byte, BlockTQ1_0>(dst)); break;
            case GgmlType.TQ2_0: TQ2_0(src, MemoryMarshal.Cast<byte, BlockTQ2_0>(dst)); break;
            case GgmlType.IQ3_XXS: IQ3_XXS(src, MemoryMarshal.Cast<byte, BlockIQ3XXS>(dst)); break;
            case GgmlType.IQ3_S: IQ3_S(src, MemoryMarshal.Cast<byte, BlockIQ3S>(dst)); break;
            case GgmlType.IQ2_XXS: Iq2Xxs(src, MemoryMarshal.Cast<byte, BlockIQ2XXS>(dst), default); break;
            case GgmlType.IQ2_XS: Iq2Xs(src, MemoryMarshal.Cast<byte, BlockIQ2XS>(dst), default); break;
            case GgmlType.IQ2_S: IQ2_S(src, MemoryMarshal.Cast<byte, BlockIQ2S>(dst)); break;
            case GgmlType.IQ1_S: Iq1S(src, MemoryMarshal.Cast<byte, BlockIQ1S>(dst), default); break;
            case GgmlType.IQ1_M: IQ1_M(src, MemoryMarshal.Cast<byte, BlockIQ1M>(dst)); break;
        }
    }

    private static void Validate(GgmlType type, int elements, int bytes)
    {
        if (!IsSupported(type))
        {
            throw new NotSupportedException($"no reference quantizer for {GgmlTypeInfo.Name(type)}");
        }
        long rowBytes = GgmlTypeInfo.RowBytes(type, elements);
        if (rowBytes < 0)
        {
            throw new ArgumentException(
                $"{elements} elements is not a whole number of {GgmlTypeInfo.Name(type)} blocks", "src");
        }
        if (bytes != rowBytes)
        {
            throw new ArgumentException(
                $"{GgmlTypeInfo.Name(type)} needs {rowBytes} bytes for {elements} elements, got {bytes}", "dst");
        }
    }

    private static void CheckLength(ReadOnlySpan<float> src, int blocks, int blockElements)
    {
        if ((long)blocks * blockElements != src.Length)
        {
            throw new ArgumentException($"{src.Length} elements do not fill {blocks} blocks of {blockElements}", nameof(src));
        }
    }

    /// <summary>
    /// C's float-to-small-integer conversion as gcc compiles it for x86-64, the platform llama.cpp's files and our
    /// fixtures come from: <c>cvttss2si</c> truncates toward zero to 32 bits, and NaN or anything outside the int
    /// range gives 0x80000000; the low bits are then kept. ggml's <c>(int8_t)(x + 8.5f)</c> and friends rely on it,
    /// and it matters for real inputs: a subnormal block maximum makes 1/d infinite. (.NET would saturate instead,
    /// as arm64 does, which gives different codes.)
    /// </summary>
    private static int Truncate(float f) => f >= -2147483648f && f < 2147483648f ? (int)f : int.MinValue;
}
