namespace Flywheel.Tensors;

// MXFP4 and the ternary formats, per ggml-quants.c dequantize_row_mxfp4 / _tq1_0 / _tq2_0.
public static unsafe partial class Dequantize
{
    /// <summary>Per <c>dequantize_row_mxfp4</c>: y = table[q] * 2^(e - 128).</summary>
    public static void MXFP4(ReadOnlySpan<BlockMXFP4> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockMXFP4.Elements, dst);
        ReadOnlySpan<sbyte> values = Fp4Table.Values;
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockMXFP4 b = blocks[i];
            float d = Fp4Table.E8M0ToFloatHalf(b.E);
            Span<float> y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                y[j] = values[b.Qs[j] & 0x0F] * d;
                y[j + 16] = values[b.Qs[j] >> 4] * d;
            }
        }
    }

    /// <summary>
    /// Per <c>dequantize_row_tq1_0</c>. A byte holding trits t0..t4 stores ceil(n * 256 / 243) for their base-3
    /// number n; multiplying by 3^k (mod 256) brings trit k to the top, and (q * 3) &gt;&gt; 8 reads it.
    /// Order: 32 bytes x 5 trits, then 16 bytes x 5 trits, then the 4 Qh bytes x 4 trits.
    /// </summary>
    public static void TQ1_0(ReadOnlySpan<BlockTQ1_0> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockTQ1_0.Elements, dst);
        ReadOnlySpan<byte> pow3 = [1, 3, 9, 27, 81, 243];
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockTQ1_0 b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 256, 256);
            int o = 0;
            for (int n = 0; n < 5; n++)
            {
                for (int m = 0; m < 32; m++)
                {
                    y[o++] = Trit(b.Qs[m], pow3[n]) * d;
                }
            }
            for (int n = 0; n < 5; n++)
            {
                for (int m = 0; m < 16; m++)
                {
                    y[o++] = Trit(b.Qs[32 + m], pow3[n]) * d;
                }
            }
            for (int n = 0; n < 4; n++)
            {
                for (int j = 0; j < 4; j++)
                {
                    y[o++] = Trit(b.Qh[j], pow3[n]) * d;
                }
            }
        }
    }

    private static float Trit(byte packed, byte power)
    {
        byte q = (byte)(packed * power);
        return ((q * 3) >> 8) - 1;
    }

    /// <summary>Per <c>dequantize_row_tq2_0</c>: y = (q - 1) * d.</summary>
    public static void TQ2_0(ReadOnlySpan<BlockTQ2_0> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockTQ2_0.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockTQ2_0 b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 256, 256);
            int o = 0;
            for (int j = 0; j < 64; j += 32)
            {
                for (int l = 0; l < 4; l++)
                {
                    for (int m = 0; m < 32; m++)
                    {
                        int q = (b.Qs[j + m] >> (l * 2)) & 3;
                        y[o++] = (float)(q - 1) * d;
                    }
                }
            }
        }
    }
}
