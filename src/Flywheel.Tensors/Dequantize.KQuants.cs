namespace Flywheel.Tensors;

// The 256-element "K" super-block formats. Group scales are formed as floats first (d * sc, dmin * m) and
// only then applied, exactly as ggml-quants.c does; computing d * (sc * q) instead would round differently.
public static unsafe partial class Dequantize
{
    /// <summary>Per ggml-quants.c <c>dequantize_row_q2_K</c>: y = (d * sc) * q - (dmin * m).</summary>
    public static void Q2_K(ReadOnlySpan<BlockQ2K> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ2K.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ2K b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            float min = Fp16.ToFloat(b.DMin);
            Span<float> y = dst.Slice(i * 256, 256);
            int o = 0;
            int scaleIndex = 0;
            // Each 32-byte slice of Qs holds four 2-bit planes; each plane is two groups of 16.
            for (int half = 0; half < 2; half++)
            {
                byte* q = b.Qs + 32 * half;
                for (int shift = 0; shift < 8; shift += 2)
                {
                    for (int g = 0; g < 2; g++)
                    {
                        byte sc = b.Scales[scaleIndex++];
                        float dl = d * (sc & 0xF);
                        float ml = min * (sc >> 4);
                        for (int l = 0; l < 16; l++)
                        {
                            y[o++] = dl * ((q[l + 16 * g] >> shift) & 3) - ml;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Per ggml-quants.c <c>dequantize_row_q3_K</c>: y = (d * (sc - 32)) * (q - (high bit ? 0 : 4)).</summary>
    public static void Q3_K(ReadOnlySpan<BlockQ3K> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ3K.Elements, dst);
        Span<sbyte> scales = stackalloc sbyte[16];
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ3K b = blocks[i];
            float dAll = Fp16.ToFloat(b.D);
            UnpackQ3KScales(b.Scales, scales);
            Span<float> y = dst.Slice(i * 256, 256);
            int o = 0;
            int scaleIndex = 0;
            int mask = 1;
            for (int half = 0; half < 2; half++)
            {
                byte* q = b.Qs + 32 * half;
                for (int shift = 0; shift < 8; shift += 2)
                {
                    for (int g = 0; g < 2; g++)
                    {
                        float dl = dAll * (scales[scaleIndex++] - 32);
                        for (int l = 0; l < 16; l++)
                        {
                            int code = ((q[l + 16 * g] >> shift) & 3) - ((b.HMask[l + 16 * g] & mask) != 0 ? 0 : 4);
                            y[o++] = dl * code;
                        }
                    }
                    mask <<= 1;
                }
            }
        }
    }

    /// <summary>
    /// Unpacks the 16 six-bit Q3_K group scales (still biased by 32). Per ggml-quants.c: the low nibbles come from
    /// bytes 0..7 (groups 0..7 low nibble, groups 8..15 high nibble), the high 2 bits of group j from byte
    /// 8 + j % 4 at bit 2 * (j / 4).
    /// </summary>
    internal static void UnpackQ3KScales(byte* packed, Span<sbyte> scales)
    {
        for (int j = 0; j < 16; j++)
        {
            int low = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
            int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
            scales[j] = (sbyte)(low | (high << 4));
        }
    }

    /// <summary>
    /// Reads scale and min number <paramref name="j"/> (0..7) of a Q4_K/Q5_K block, per ggml-quants.c
    /// <c>get_scale_min_k4</c>: groups 0..3 use the low 6 bits of bytes 0..7, groups 4..7 combine a nibble of
    /// bytes 8..11 with the top 2 bits of bytes 0..7.
    /// </summary>
    internal static void ScaleMinK4(int j, byte* q, out byte scale, out byte min)
    {
        if (j < 4)
        {
            scale = (byte)(q[j] & 63);
            min = (byte)(q[j + 4] & 63);
        }
        else
        {
            scale = (byte)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
            min = (byte)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
        }
    }

    /// <summary>Per ggml-quants.c <c>dequantize_row_q4_K</c>: y = (d * sc) * q - (dmin * m).</summary>
    public static void Q4_K(ReadOnlySpan<BlockQ4K> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ4K.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ4K b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            float min = Fp16.ToFloat(b.DMin);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int chunk = 0; chunk < 4; chunk++)
            {
                byte* q = b.Qs + 32 * chunk;
                ScaleMinK4(2 * chunk, b.Scales, out byte sc, out byte m);
                float d1 = d * sc;
                float m1 = min * m;
                ScaleMinK4(2 * chunk + 1, b.Scales, out sc, out m);
                float d2 = d * sc;
                float m2 = min * m;
                Span<float> yc = y.Slice(64 * chunk, 64);
                for (int l = 0; l < 32; l++)
                {
                    yc[l] = d1 * (q[l] & 0xF) - m1;
                }
                for (int l = 0; l < 32; l++)
                {
                    yc[l + 32] = d2 * (q[l] >> 4) - m2;
                }
            }
        }
    }

    /// <summary>Per ggml-quants.c <c>dequantize_row_q5_K</c>: y = (d * sc) * (q + 16 * high bit) - (dmin * m).</summary>
    public static void Q5_K(ReadOnlySpan<BlockQ5K> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ5K.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ5K b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            float min = Fp16.ToFloat(b.DMin);
            Span<float> y = dst.Slice(i * 256, 256);
            int u1 = 1;
            int u2 = 2;
            for (int chunk = 0; chunk < 4; chunk++)
            {
                byte* ql = b.Qs + 32 * chunk;
                ScaleMinK4(2 * chunk, b.Scales, out byte sc, out byte m);
                float d1 = d * sc;
                float m1 = min * m;
                ScaleMinK4(2 * chunk + 1, b.Scales, out sc, out m);
                float d2 = d * sc;
                float m2 = min * m;
                Span<float> yc = y.Slice(64 * chunk, 64);
                for (int l = 0; l < 32; l++)
                {
                    yc[l] = d1 * ((ql[l] & 0xF) + ((b.Qh[l] & u1) != 0 ? 16 : 0)) - m1;
                }
                for (int l = 0; l < 32; l++)
                {
                    yc[l + 32] = d2 * ((ql[l] >> 4) + ((b.Qh[l] & u2) != 0 ? 16 : 0)) - m2;
                }
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }

    /// <summary>Per ggml-quants.c <c>dequantize_row_q6_K</c>: y = (d * sc) * (q - 32), evaluated left to right.</summary>
    public static void Q6_K(ReadOnlySpan<BlockQ6K> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ6K.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ6K b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int half = 0; half < 2; half++)
            {
                byte* ql = b.Ql + 64 * half;
                byte* qh = b.Qh + 32 * half;
                sbyte* sc = b.Scales + 8 * half;
                Span<float> yc = y.Slice(128 * half, 128);
                for (int l = 0; l < 32; l++)
                {
                    int s = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    yc[l] = d * sc[s] * q1;
                    yc[l + 32] = d * sc[s + 2] * q2;
                    yc[l + 64] = d * sc[s + 4] * q3;
                    yc[l + 96] = d * sc[s + 6] * q4;
                }
            }
        }
    }

    /// <summary>Per ggml-quants.c <c>dequantize_row_q8_K</c>: y = d * q with a float d.</summary>
    public static void Q8_K(ReadOnlySpan<BlockQ8K> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockQ8K.Elements, dst);
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockQ8K b = blocks[i];
            Span<float> y = dst.Slice(i * 256, 256);
            for (int j = 0; j < 256; j++)
            {
                y[j] = b.D * b.Qs[j];
            }
        }
    }
}
