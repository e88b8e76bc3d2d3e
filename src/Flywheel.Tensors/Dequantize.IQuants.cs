namespace Flywheel.Tensors;

// Non-linear 4-bit formats: codes index kvalues_iq4nl (ggml-common.h) instead of being used as integers.
public static unsafe partial class Dequantize
{
    /// <summary>Per ggml-quants.c <c>dequantize_row_iq4_nl</c>: y = d * table[q].</summary>
    public static void IQ4_NL(ReadOnlySpan<BlockIQ4_NL> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockIQ4_NL.Elements, dst);
        ReadOnlySpan<sbyte> values = Iq4NlTable.Values;
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockIQ4_NL b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                y[j] = d * values[b.Qs[j] & 0xF];
                y[j + 16] = d * values[b.Qs[j] >> 4];
            }
        }
    }

    /// <summary>Per ggml-quants.c <c>dequantize_row_iq4_xs</c>: y = (d * (ls - 32)) * table[q].</summary>
    public static void IQ4_XS(ReadOnlySpan<BlockIQ4XS> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockIQ4XS.Elements, dst);
        ReadOnlySpan<sbyte> values = Iq4NlTable.Values;
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockIQ4XS b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int ib = 0; ib < 8; ib++)
            {
                int ls = ((b.ScalesL[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((b.ScalesH >> (2 * ib)) & 3) << 4);
                float dl = d * (ls - 32);
                byte* qs = b.Qs + 16 * ib;
                Span<float> yb = y.Slice(32 * ib, 32);
                for (int j = 0; j < 16; j++)
                {
                    yb[j] = dl * values[qs[j] & 0xF];
                    yb[j + 16] = dl * values[qs[j] >> 4];
                }
            }
        }
    }
}
