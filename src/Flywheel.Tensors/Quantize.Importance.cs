using System.Runtime.InteropServices;

namespace Flywheel.Tensors;

// Quantization guided by an importance matrix, as llama-quantize --imatrix does it: ggml's quantize_q*_* entry
// points switch from the *_ref functions to quantize_row_*_impl when given quant_weights. Each weight below is
// importance[column] * sqrt(sigma2 + x^2), with sigma2 a mean square over the row or super-block, as ggml computes it.
public static unsafe partial class Quantize
{
    /// <summary>
    /// Encodes one row using <paramref name="importance"/>, one non-negative weight per column (an imatrix entry,
    /// the mean squared activation that column sees). An empty span means no importance matrix and gives exactly
    /// <see cref="Row(GgmlType, ReadOnlySpan{float}, Span{byte})"/>'s bytes, as do the formats whose ggml quantizer
    /// ignores importance (F32, F16, BF16, Q8_0, Q8_1, Q8_K, MXFP4, TQ1_0, TQ2_0). With importance, legacy formats
    /// scale weights by statistics of the whole row, so <paramref name="src"/> must be exactly one tensor row.
    /// </summary>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        if (importance.IsEmpty)
        {
            Row(type, src, dst);
            return;
        }
        if (importance.Length != src.Length)
        {
            throw new ArgumentException($"{importance.Length} importance weights for a row of {src.Length}", nameof(importance));
        }
        Validate(type, src.Length, dst.Length);

        switch (type)
        {
            case GgmlType.Q4_0: Q40Weighted(src, MemoryMarshal.Cast<byte, BlockQ4_0>(dst), importance); break;
            case GgmlType.Q4_1: Q41Weighted(src, MemoryMarshal.Cast<byte, BlockQ4_1>(dst), importance); break;
            case GgmlType.Q5_0: Q50Weighted(src, MemoryMarshal.Cast<byte, BlockQ5_0>(dst), importance); break;
            case GgmlType.Q5_1: Q51Weighted(src, MemoryMarshal.Cast<byte, BlockQ5_1>(dst), importance); break;
            case GgmlType.Q2_K: Q2KWeighted(src, MemoryMarshal.Cast<byte, BlockQ2K>(dst), importance); break;
            case GgmlType.Q3_K: Q3KWeighted(src, MemoryMarshal.Cast<byte, BlockQ3K>(dst), importance); break;
            case GgmlType.Q4_K: Q45KWeighted(src, MemoryMarshal.Cast<byte, BlockQ4K>(dst), default, importance); break;
            case GgmlType.Q5_K: Q45KWeighted(src, default, MemoryMarshal.Cast<byte, BlockQ5K>(dst), importance); break;
            case GgmlType.Q6_K: Q6K(src, MemoryMarshal.Cast<byte, BlockQ6K>(dst), importance); break;
            case GgmlType.IQ4_NL: Iq4Nl(src, MemoryMarshal.Cast<byte, BlockIQ4_NL>(dst), importance); break;
            case GgmlType.IQ4_XS: Iq4Xs(src, MemoryMarshal.Cast<byte, BlockIQ4XS>(dst), importance); break;
            case GgmlType.IQ3_XXS: Iq3Xxs(src, MemoryMarshal.Cast<byte, BlockIQ3XXS>(dst), importance); break;
            case GgmlType.IQ3_S: Iq3S(src, MemoryMarshal.Cast<byte, BlockIQ3S>(dst), importance); break;
            case GgmlType.IQ2_XXS: Iq2Xxs(src, MemoryMarshal.Cast<byte, BlockIQ2XXS>(dst), importance); break;
            case GgmlType.IQ2_XS: Iq2Xs(src, MemoryMarshal.Cast<byte, BlockIQ2XS>(dst), importance); break;
            case GgmlType.IQ2_S: Iq2S(src, MemoryMarshal.Cast<byte, BlockIQ2S>(dst), importance); break;
            case GgmlType.IQ1_S: Iq1S(src, MemoryMarshal.Cast<byte, BlockIQ1S>(dst), importance); break;
            case GgmlType.IQ1_M: Iq1M(src, MemoryMarshal.Cast<byte, BlockIQ1M>(dst), importance); break;
            default: Row(type, src, dst); break;
        }
    }

    /// <summary>Weights of one 32-value block of a legacy format: importance * sqrt(sigma2 + x^2).</summary>
    private static void LegacyWeights(ReadOnlySpan<float> xb, ReadOnlySpan<float> importance, float sigma2, Span<float> weights)
    {
        for (int j = 0; j < 32; j++)
        {
            weights[j] = importance[j] * MathF.Sqrt(sigma2 + xb[j] * xb[j]);
        }
    }

    /// <summary>Mean square of the row (sum in index order, then one division), the legacy formats' sigma2.</summary>
    private static float RowMeanSquare(ReadOnlySpan<float> x)
    {
        float sum = 0;
        for (int j = 0; j < x.Length; j++)
        {
            sum += x[j] * x[j];
        }
        return sum / x.Length;
    }

    /// <summary>Per <c>quantize_row_q4_0_impl</c>: make_qx_quants with nmax 8 on the weights.</summary>
    private static void Q40Weighted(ReadOnlySpan<float> src, Span<BlockQ4_0> dst, ReadOnlySpan<float> importance)
    {
        Span<float> weights = stackalloc float[32];
        Span<sbyte> codes = stackalloc sbyte[32];
        float sigma2 = RowMeanSquare(src);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> xb = src.Slice(32 * i, 32);
            LegacyWeights(xb, importance.Slice(32 * i, 32), sigma2, weights);
            float d = MakeQxQuants(32, 8, xb, codes, weights);
            BlockQ4_0 y = default;
            y.D = Fp16.FromFloat(d);
            for (int j = 0; j < 16; j++)
            {
                y.Qs[j] = (byte)((byte)codes[j] | ((byte)codes[j + 16] << 4));
            }
            dst[i] = y;
        }
    }

    /// <summary>Per <c>quantize_row_q5_0_impl</c>: make_qx_quants with nmax 16 on the weights.</summary>
    private static void Q50Weighted(ReadOnlySpan<float> src, Span<BlockQ5_0> dst, ReadOnlySpan<float> importance)
    {
        Span<float> weights = stackalloc float[32];
        Span<sbyte> codes = stackalloc sbyte[32];
        float sigma2 = RowMeanSquare(src);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> xb = src.Slice(32 * i, 32);
            LegacyWeights(xb, importance.Slice(32 * i, 32), sigma2, weights);
            float d = MakeQxQuants(32, 16, xb, codes, weights);
            BlockQ5_0 y = default;
            y.D = Fp16.FromFloat(d);
            PackFiveBit(MemoryMarshal.AsBytes(codes), y.Qs, y.Qh);
            dst[i] = y;
        }
    }

    /// <summary>Per <c>quantize_row_q4_1_impl</c>: make_qkx3_quants with nmax 15; m = -(fitted offset).</summary>
    private static void Q41Weighted(ReadOnlySpan<float> src, Span<BlockQ4_1> dst, ReadOnlySpan<float> importance)
    {
        Span<float> weights = stackalloc float[32];
        Span<byte> codes = stackalloc byte[32];
        Span<byte> scratch = stackalloc byte[32];
        float sigma2 = RowMeanSquare(src);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> xb = src.Slice(32 * i, 32);
            LegacyWeights(xb, importance.Slice(32 * i, 32), sigma2, weights);
            float d = MakeQkx3Quants(32, 15, xb, weights, codes, out float negMin, scratch, -0.9f, 0.05f, 36, false);
            BlockQ4_1 y = default;
            y.D = Fp16.FromFloat(d);
            y.M = Fp16.FromFloat(-negMin);
            for (int j = 0; j < 16; j++)
            {
                y.Qs[j] = (byte)((byte)codes[j] | ((byte)codes[j + 16] << 4));
            }
            dst[i] = y;
        }
    }

    /// <summary>Per <c>quantize_row_q5_1_impl</c>: make_qkx3_quants with nmax 31; m = -(fitted offset).</summary>
    private static void Q51Weighted(ReadOnlySpan<float> src, Span<BlockQ5_1> dst, ReadOnlySpan<float> importance)
    {
        Span<float> weights = stackalloc float[32];
        Span<byte> codes = stackalloc byte[32];
        Span<byte> scratch = stackalloc byte[32];
        float sigma2 = RowMeanSquare(src);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> xb = src.Slice(32 * i, 32);
            LegacyWeights(xb, importance.Slice(32 * i, 32), sigma2, weights);
            float d = MakeQkx3Quants(32, 31, xb, weights, codes, out float negMin, scratch, -0.9f, 0.05f, 36, false);
            BlockQ5_1 y = default;
            y.D = Fp16.FromFloat(d);
            y.M = Fp16.FromFloat(-negMin);
            PackFiveBit(codes, y.Qs, y.Qh);
            dst[i] = y;
        }
    }

    /// <summary>Low nibbles of codes j and j + 16 share Qs[j]; the fifth bits go to bit j of the uint32 in Qh.</summary>
    private static void PackFiveBit(ReadOnlySpan<byte> codes, byte* qs, byte* qhBytes)
    {
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            uint xi0 = codes[j];
            uint xi1 = codes[j + 16];
            qs[j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10u) >> 4) << j;
            qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
        }
        WriteUInt32(qhBytes, qh);
    }
}
