namespace Flywheel.Tensors;

// The 32-element formats. Float expressions keep ggml's shape (code * d, then + m) because a fused or
// reordered version rounds differently.
public static unsafe partial class Dequantize
{
    /// <summary>Per ggml-quants.c <c>dequantize_row_q4_0</c>: y = (q - 8) * d.</summary>
    public static void Q4_0(ReadOnlySpan<BlockQ4_0> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ4_0.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ4_0 b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int x0 = (b.Qs[j] & 0x0F) - 8;
                int x1 = (b.Qs[j] >> 4) - 8;
                y[j] = x0 * d;
                y[j + 16] = x1 * d;
            }
        }
    }

    /// <summary>Per ggml-quants.c <c>dequantize_row_q4_1</c>: y = q * d + m.</summary>
    public static void Q4_1(ReadOnlySpan<BlockQ4_1> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ4_1.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ4_1 b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            float m = Fp16.ToFloat(b.M);
            Span<float> y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int x0 = b.Qs[j] & 0x0F;
                int x1 = b.Qs[j] >> 4;
                y[j] = x0 * d + m;
                y[j + 16] = x1 * d + m;
            }
        }
    }

    /// <summary>Per ggml-quants.c <c>dequantize_row_q5_0</c>: y = (q - 16) * d.</summary>
    public static void Q5_0(ReadOnlySpan<BlockQ5_0> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ5_0.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ5_0 b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            uint qh = ReadUInt32(b.Qh);
            Span<float> y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int xh0 = (int)((qh >> j) << 4) & 0x10;
                int xh1 = (int)(qh >> (j + 12)) & 0x10;
                int x0 = ((b.Qs[j] & 0x0F) | xh0) - 16;
                int x1 = ((b.Qs[j] >> 4) | xh1) - 16;
                y[j] = x0 * d;
                y[j + 16] = x1 * d;
            }
        }
    }

    /// <summary>Per ggml-quants.c <c>dequantize_row_q5_1</c>: y = q * d + m.</summary>
    public static void Q5_1(ReadOnlySpan<BlockQ5_1> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ5_1.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ5_1 b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            float m = Fp16.ToFloat(b.M);
            uint qh = ReadUInt32(b.Qh);
            Span<float> y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int xh0 = (int)((qh >> j) << 4) & 0x10;
                int xh1 = (int)(qh >> (j + 12)) & 0x10;
                int x0 = (b.Qs[j] & 0x0F) | xh0;
                int x1 = (b.Qs[j] >> 4) | xh1;
                y[j] = x0 * d + m;
                y[j + 16] = x1 * d + m;
            }
        }
    }

    /// <summary>Per ggml-quants.c <c>dequantize_row_q8_0</c>: y = q * d.</summary>
    public static void Q8_0(ReadOnlySpan<BlockQ8_0> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ8_0.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ8_0 b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 32; j++)
            {
                y[j] = b.Qs[j] * d;
            }
        }
    }

    /// <summary>Reads the 4 little-endian bytes of a Qh field (ggml memcpy's them into a uint32).</summary>
    private static uint ReadUInt32(byte* p) => (uint)(p[0] | (p[1] << 8) | (p[2] << 16) | (p[3] << 24));
}
