namespace Flywheel.Tensors;

// The 32-element formats, per the quantize_row_*_ref functions of ggml-quants.c.
public static unsafe partial class Quantize
{
    /// <summary>Per <c>quantize_row_q4_0_ref</c>: d = (signed value of largest magnitude) / -8, codes round half up.</summary>
    public static void Q4_0(ReadOnlySpan<float> src, Span<BlockQ4_0> dst)
    {
        CheckLength(src, dst.Length, BlockQ4_0.Elements);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            float amax = 0;
            float max = 0;
            for (int j = 0; j < 32; j++)
            {
                if (amax < MathF.Abs(x[j]))
                {
                    amax = MathF.Abs(x[j]);
                    max = x[j];
                }
            }
            // Using the signed extreme maps it exactly onto code 0 (-8), the end with one more level.
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;

            BlockQ4_0 y = default;
            y.D = Fp16.FromFloat(d);
            for (int j = 0; j < 16; j++)
            {
                int xi0 = Math.Min(15, (int)(sbyte)Truncate(x[j] * id + 8.5f));
                int xi1 = Math.Min(15, (int)(sbyte)Truncate(x[j + 16] * id + 8.5f));
                y.Qs[j] = (byte)(xi0 | (xi1 << 4));
            }
            dst[i] = y;
        }
    }

    /// <summary>Per <c>quantize_row_q4_1_ref</c>: d = (max - min) / 15, m = min.</summary>
    public static void Q4_1(ReadOnlySpan<float> src, Span<BlockQ4_1> dst)
    {
        CheckLength(src, dst.Length, BlockQ4_1.Elements);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            MinMax(x, out float min, out float max);
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;

            BlockQ4_1 y = default;
            y.D = Fp16.FromFloat(d);
            y.M = Fp16.FromFloat(min);
            for (int j = 0; j < 16; j++)
            {
                int xi0 = Math.Min(15, (int)(sbyte)Truncate((x[j] - min) * id + 0.5f));
                int xi1 = Math.Min(15, (int)(sbyte)Truncate((x[j + 16] - min) * id + 0.5f));
                y.Qs[j] = (byte)(xi0 | (xi1 << 4));
            }
            dst[i] = y;
        }
    }

    /// <summary>Per <c>quantize_row_q5_0_ref</c>: d = (signed value of largest magnitude) / -16.</summary>
    public static void Q5_0(ReadOnlySpan<float> src, Span<BlockQ5_0> dst)
    {
        CheckLength(src, dst.Length, BlockQ5_0.Elements);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            float amax = 0;
            float max = 0;
            for (int j = 0; j < 32; j++)
            {
                if (amax < MathF.Abs(x[j]))
                {
                    amax = MathF.Abs(x[j]);
                    max = x[j];
                }
            }
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;

            BlockQ5_0 y = default;
            y.D = Fp16.FromFloat(d);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                uint xi0 = (byte)Math.Min(31, (int)(sbyte)Truncate(x[j] * id + 16.5f));
                uint xi1 = (byte)Math.Min(31, (int)(sbyte)Truncate(x[j + 16] * id + 16.5f));
                y.Qs[j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10u) >> 4) << j;
                qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
            }
            WriteUInt32(y.Qh, qh);
            dst[i] = y;
        }
    }

    /// <summary>Per <c>quantize_row_q5_1_ref</c>: d = (max - min) / 31, m = min.</summary>
    public static void Q5_1(ReadOnlySpan<float> src, Span<BlockQ5_1> dst)
    {
        CheckLength(src, dst.Length, BlockQ5_1.Elements);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            MinMax(x, out float min, out float max);
            float d = (max - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;

            BlockQ5_1 y = default;
            y.D = Fp16.FromFloat(d);
            y.M = Fp16.FromFloat(min);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                // ggml converts straight to uint8_t here, with no clamp to 31.
                uint xi0 = (byte)Truncate((x[j] - min) * id + 0.5f);
                uint xi1 = (byte)Truncate((x[j + 16] - min) * id + 0.5f);
                y.Qs[j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= ((xi0 & 0x10u) >> 4) << j;
                qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
            }
            WriteUInt32(y.Qh, qh);
            dst[i] = y;
        }
    }

    /// <summary>Per <c>quantize_row_q8_0_ref</c>: d = amax / 127, codes = roundf(x / d) (half away from zero).</summary>
    public static void Q8_0(ReadOnlySpan<float> src, Span<BlockQ8_0> dst)
    {
        CheckLength(src, dst.Length, BlockQ8_0.Elements);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            float amax = 0;
            for (int j = 0; j < 32; j++)
            {
                amax = CMax(amax, MathF.Abs(x[j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;

            BlockQ8_0 y = default;
            y.D = Fp16.FromFloat(d);
            for (int j = 0; j < 32; j++)
            {
                y.Qs[j] = (sbyte)Truncate(MathF.Round(x[j] * id, MidpointRounding.AwayFromZero));
            }
            dst[i] = y;
        }
    }

    /// <summary>Per <c>quantize_row_q8_1_ref</c>: as Q8_0, plus s = d * (sum of codes).</summary>
    public static void Q8_1(ReadOnlySpan<float> src, Span<BlockQ8_1> dst)
    {
        CheckLength(src, dst.Length, BlockQ8_1.Elements);
        for (int i = 0; i < dst.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            float amax = 0;
            for (int j = 0; j < 32; j++)
            {
                amax = CMax(amax, MathF.Abs(x[j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;

            BlockQ8_1 y = default;
            y.D = Fp16.FromFloat(d);
            int sum = 0;
            for (int j = 0; j < 16; j++)
            {
                y.Qs[j] = (sbyte)Truncate(MathF.Round(x[j] * id, MidpointRounding.AwayFromZero));
                y.Qs[j + 16] = (sbyte)Truncate(MathF.Round(x[j + 16] * id, MidpointRounding.AwayFromZero));
                sum += y.Qs[j];
                sum += y.Qs[j + 16];
            }
            y.S = Fp16.FromFloat(sum * d);
            dst[i] = y;
        }
    }

    /// <summary>Running min and max as ggml writes them (strict comparisons from ±FLT_MAX).</summary>
    private static void MinMax(ReadOnlySpan<float> x, out float min, out float max)
    {
        min = float.MaxValue;
        max = float.MinValue;
        for (int j = 0; j < x.Length; j++)
        {
            if (x[j] < min)
            {
                min = x[j];
            }
            if (x[j] > max)
            {
                max = x[j];
            }
        }
    }

    /// <summary>ggml's MAX macro, <c>a &gt; b ? a : b</c>; unlike MathF.Max it does not prefer NaN.</summary>
    private static float CMax(float a, float b) => a > b ? a : b;

    private static void WriteUInt32(byte* p, uint v)
    {
        p[0] = (byte)v;
        p[1] = (byte)(v >> 8);
        p[2] = (byte)(v >> 16);
        p[3] = (byte)(v >> 24);
    }
}
