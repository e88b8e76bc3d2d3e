namespace Flywheel.Tensors;

// MXFP4 and the ternary formats, per ggml-quants.c quantize_row_mxfp4_ref / _tq1_0_ref / _tq2_0_ref
// (llama-quantize passes no importance matrix to any of them).
public static unsafe partial class Quantize
{
    /// <summary>
    /// Per <c>quantize_row_mxfp4_ref</c>: e = floor(log2(amax)) - 2 + 127, so the largest magnitude lands near the
    /// top code (6 = 12 / 2); each value then takes the nearest code, the first one on ties.
    /// </summary>
    public static void MXFP4(ReadOnlySpan<float> src, Span<BlockMXFP4> dst)
    {
        CheckLength(src, dst.Length, BlockMXFP4.Elements);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            float amax = 0;
            for (int j = 0; j < 32; j++)
            {
                if (amax < MathF.Abs(x[j]))
                {
                    amax = MathF.Abs(x[j]);
                }
            }
            // MathF.Log2 is the C library's log2f, as in ggml, so values just below a power of two round the
            // same way; an exponent computed from the float bits would differ there.
            byte e = amax > 0 ? (byte)Truncate(MathF.Floor(MathF.Log2(amax)) - 2 + 127) : (byte)0;
            float d = Fp4Table.E8M0ToFloatHalf(e);

            BlockMXFP4 y = default;
            y.E = e;
            for (int j = 0; j < 16; j++)
            {
                int x0 = BestFp4Index(x[j], d);
                int x1 = BestFp4Index(x[j + 16], d);
                y.Qs[j] = (byte)(x0 | (x1 << 4));
            }
            dst[i] = y;
        }
    }

    /// <summary>ggml-quants.c <c>best_index_mxfp4</c>: linear scan, strict improvement only.</summary>
    private static int BestFp4Index(float x, float e)
    {
        ReadOnlySpan<sbyte> values = Fp4Table.Values;
        int bestIndex = 0;
        float bestError = MathF.Abs(values[0] * e - x);
        for (int i = 1; i < 16; i++)
        {
            float error = MathF.Abs(values[i] * e - x);
            if (error < bestError)
            {
                bestIndex = i;
                bestError = error;
            }
        }
        return bestIndex;
    }

    /// <summary>Per <c>quantize_row_tq1_0_ref</c>: d = amax, trits = round(x / d), packed base 3 (see BlockTQ1_0).</summary>
    public static void TQ1_0(ReadOnlySpan<float> src, Span<BlockTQ1_0> dst)
    {
        CheckLength(src, dst.Length, BlockTQ1_0.Elements);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 256, 256);
            float amax = 0;
            for (int j = 0; j < 256; j++)
            {
                amax = CMax(amax, MathF.Abs(x[j]));
            }
            float d = amax;
            float id = d != 0 ? 1.0f / d : 0.0f;

            BlockTQ1_0 y = default;
            y.D = Fp16.FromFloat(d);
            // 32 bytes of 5 trits (x[0..160)), then 16 bytes of 5 trits (x[160..240)), then 4 bytes of 4 trits.
            for (int m = 0; m < 32; m++)
            {
                y.Qs[m] = PackTrits(x, m, 32, 5, id, extraShift: false);
            }
            for (int m = 0; m < 16; m++)
            {
                y.Qs[32 + m] = PackTrits(x.Slice(160), m, 16, 5, id, extraShift: false);
            }
            for (int j = 0; j < 4; j++)
            {
                // Only 4 trits: one more multiply by 3 puts the first in the top position like the others.
                y.Qh[j] = PackTrits(x.Slice(240), j, 4, 4, id, extraShift: true);
            }
            dst[i] = y;
        }
    }

    private static byte PackTrits(ReadOnlySpan<float> x, int start, int stride, int count, float id, bool extraShift)
    {
        byte q = 0;
        for (int n = 0; n < count; n++)
        {
            int trit = TernaryCode(x[start + n * stride] * id);
            q = (byte)(q * 3);
            q = (byte)(q + trit);
        }
        if (extraShift)
        {
            q = (byte)(q * 3);
        }
        // Ceiling division: store ceil(q * 256 / 243) so that a multiply and shift reads the trits back.
        return (byte)((q * 256 + (243 - 1)) / 243);
    }

    /// <summary>
    /// <c>lroundf(v) + 1</c> narrowed to int, as ggml writes it: round half away from zero, and (glibc on
    /// x86-64) LONG_MIN for NaN or out-of-range input, whose low 32 bits plus one give 1.
    /// </summary>
    private static int TernaryCode(float v)
    {
        long rounded = MathF.Abs(v) < 9.223372e18f ? (long)MathF.Round(v, MidpointRounding.AwayFromZero) : long.MinValue;
        return unchecked((int)(rounded + 1));
    }

    /// <summary>Per <c>quantize_row_tq2_0_ref</c>: d = amax, codes = round(x / d) + 1 packed as in BlockTQ2_0.</summary>
    public static void TQ2_0(ReadOnlySpan<float> src, Span<BlockTQ2_0> dst)
    {
        CheckLength(src, dst.Length, BlockTQ2_0.Elements);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 256, 256);
            float amax = 0;
            for (int j = 0; j < 256; j++)
            {
                amax = CMax(amax, MathF.Abs(x[j]));
            }
            float d = amax;
            float id = d != 0 ? 1.0f / d : 0.0f;

            BlockTQ2_0 y = default;
            y.D = Fp16.FromFloat(d);
            for (int j = 0; j < 64; j += 32)
            {
                ReadOnlySpan<float> xs = x.Slice(j * 4, 128);
                for (int m = 0; m < 32; m++)
                {
                    byte q = 0;
                    for (int n = 0; n < 4; n++)
                    {
                        int code = TernaryCode(xs[m + n * 32] * id);
                        q = (byte)(q + ((code & 3) << (2 * n)));
                    }
                    y.Qs[j + m] = q;
                }
            }
            dst[i] = y;
        }
    }
}
