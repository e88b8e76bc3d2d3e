using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

/// <summary>
/// Scalar reference dequantizers: the specification every faster kernel must match. Each one reproduces
/// llama.cpp's <c>dequantize_row_*</c> (ggml-quants.c) bit for bit, including the order of float operations,
/// so results equal llama.cpp's exactly rather than within a tolerance. "llama.cpp" here means ggml-base as it is
/// normally built for x86-64, without fused multiply-add: a build whose compiler contracts <c>q * d + m</c> into an
/// FMA (ggml-base compiled with -march=native, say) rounds the min formats (Q4_1, Q5_1, the K formats) differently
/// in the last bit. All methods are stateless, thread-safe and allocation-free (IQ grids are expanded once, on
/// first use). Data is little-endian, as GGUF stores it.
/// </summary>
public static partial class Dequantize
{
    /// <summary>True when <see cref="Row"/> can decode <paramref name="type"/>.</summary>
    public static bool IsSupported(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => true,
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 => true,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K => true,
        GgmlType.IQ4_NL or GgmlType.IQ4_XS => true,
        GgmlType.MXFP4 or GgmlType.TQ1_0 or GgmlType.TQ2_0 => true,
        GgmlType.IQ2_XXS or GgmlType.IQ2_XS or GgmlType.IQ2_S or GgmlType.IQ3_XXS or GgmlType.IQ3_S => true,
        GgmlType.IQ1_S or GgmlType.IQ1_M => true,
        _ => false,
    };

    /// <summary>
    /// Decodes <paramref name="dst"/>.Length elements stored as <paramref name="type"/> in <paramref name="src"/>.
    /// The element count must be a whole number of blocks and <paramref name="src"/> must hold exactly
    /// <see cref="GgmlTypeInfo.RowBytes"/> bytes for it.
    /// </summary>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!IsSupported(type))
        {
            throw new NotSupportedException($"no reference dequantizer for {GgmlTypeInfo.Name(type)}");
        }
        long rowBytes = GgmlTypeInfo.RowBytes(type, dst.Length);
        if (rowBytes < 0)
        {
            throw new ArgumentException(
                $"{dst.Length} elements is not a whole number of {GgmlTypeInfo.Name(type)} blocks", nameof(dst));
        }
        if (src.Length != rowBytes)
        {
            throw new ArgumentException(
                $"{GgmlTypeInfo.Name(type)} needs {rowBytes} bytes for {dst.Length} elements, got {src.Length}", nameof(src));
        }

        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.Cast<byte, float>(src).CopyTo(dst); break;
            case GgmlType.F16: Fp16.ToFloat(MemoryMarshal.Cast<byte, ushort>(src), dst); break;
            case GgmlType.BF16: Bf16.ToFloat(MemoryMarshal.Cast<byte, ushort>(src), dst); break;
            case GgmlType.Q4_0: Q4_0(MemoryMarshal.Cast<byte, BlockQ4_0>(src), dst); break;
            case GgmlType.Q4_1: Q4_1(MemoryMarshal.Cast<byte, BlockQ4_1>(src), dst); break;
            case GgmlType.Q5_0: Q5_0(MemoryMarshal.Cast<byte, BlockQ5_0>(src), dst); break;
            case GgmlType.Q5_1: Q5_1(MemoryMarshal.Cast<byte, BlockQ5_1>(src), dst); break;
            case GgmlType.Q8_0: Q8_0(MemoryMarshal.Cast<byte, BlockQ8_0>(src), dst); break;
            case GgmlType.Q2_K: Q2_K(MemoryMarshal.Cast<byte, BlockQ2K>(src), dst); break;
            case GgmlType.Q3_K: Q3_K(MemoryMarshal.Cast<byte, BlockQ3K>(src), dst); break;
            case GgmlType.Q4_K: Q4_K(MemoryMarshal.Cast<byte, BlockQ4K>(src), dst); break;
            case GgmlType.Q5_K: Q5_K(MemoryMarshal.Cast<byte, BlockQ5K>(src), dst); break;
            case GgmlType.Q6_K: Q6_K(MemoryMarshal.Cast<byte, BlockQ6K>(src), dst); break;
            case GgmlType.Q8_K: Q8_K(MemoryMarshal.Cast<byte, BlockQ8K>(src), dst); break;
            case GgmlType.IQ4_NL: IQ4_NL(MemoryMarshal.Cast<byte, BlockIQ4_NL>(src), dst); break;
            case GgmlType.IQ4_XS: IQ4_XS(MemoryMarshal.Cast<byte, BlockIQ4XS>(src), dst); break;
            case GgmlType.MXFP4: MXFP4(MemoryMarshal.Cast<byte, BlockMXFP4>(src), dst); break;
            case GgmlType.TQ1_0: TQ1_0(MemoryMarshal.Cast<byte, BlockTQ1_0>(src), dst); break;
            case GgmlType.TQ2_0: TQ2_0(MemoryMarshal.Cast<byte, BlockTQ2_0>(src), dst); break;
            case GgmlType.IQ2_XXS: IQ2_XXS(MemoryMarshal.Cast<byte, BlockIQ2XXS>(src), dst); break;
            case GgmlType.IQ2_XS: IQ2_XS(MemoryMarshal.Cast<byte, BlockIQ2XS>(src), dst); break;
            case GgmlType.IQ2_S: IQ2_S(MemoryMarshal.Cast<byte, BlockIQ2S>(src), dst); break;
            case GgmlType.IQ3_XXS: IQ3_XXS(MemoryMarshal.Cast<byte, BlockIQ3XXS>(src), dst); break;
            case GgmlType.IQ3_S: IQ3_S(MemoryMarshal.Cast<byte, BlockIQ3S>(src), dst); break;
            case GgmlType.IQ1_S: IQ1_S(MemoryMarshal.Cast<byte, BlockIQ1S>(src), dst); break;
            case GgmlType.IQ1_M: IQ1_M(MemoryMarshal.Cast<byte, BlockIQ1M>(src), dst); break;
        }
    }

    private static void CheckLength(int blocks, int blockElements, Span<float> dst)
    {
        if ((long)blocks * blockElements != dst.Length)
        {
            throw new ArgumentException($"{blocks} blocks hold {(long)blocks * blockElements} elements, destination has {dst.Length}", nameof(dst));
        }
    }
}
