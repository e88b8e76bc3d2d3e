namespace Flywheel.Tensors;

// Lattice-codebook IQ formats (ggml-quants.c dequantize_row_iq2_xxs ... _iq1_m). Groups of 8 (or 4) weights are one
// point of a fixed grid (IqGrids) with signs applied separately; scales are formed as floats first, then
// value = (scale * grid) * sign, in that order, as ggml writes it. The quantizers are in Quantize.IQ1.cs,
// Quantize.IQ2.cs and Quantize.IQ3.cs.
public static unsafe partial class Dequantize
{
    /// <summary>Per <c>dequantize_row_iq2_xxs</c>: db = d * (0.5 + s) * 0.25 per group of 32.</summary>
    public static void IQ2_XXS(ReadOnlySpan<BlockIQ2XXS> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockIQ2XXS.Elements, dst);
        byte[] grid = IqGrids.Iq2Xxs;
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockIQ2XXS b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            byte* qs = (byte*)b.Qs;
            Span<float> y = dst.Slice(i * 256, 256);
            for (int ib = 0; ib < 8; ib++)
            {
                byte* indices = qs + 8 * ib;
                uint signsAndScale = ReadUInt32(qs + 8 * ib + 4);
                float db = d * (0.5f + (signsAndScale >> 28)) * 0.25f;
                for (int l = 0; l < 4; l++)
                {
                    byte signs = IqGrids.SignPattern((int)(signsAndScale >> (7 * l)) & 127);
                    int point = indices[l] * 8;
                    Span<float> yl = y.Slice(32 * ib + 8 * l, 8);
                    for (int j = 0; j < 8; j++)
                    {
                        yl[j] = db * grid[point + j] * ((signs & (1 << j)) != 0 ? -1f : 1f);
                    }
                }
            }
        }
    }

    /// <summary>Per <c>dequantize_row_iq2_xs</c>: two 4-bit scales per group, db = d * (0.5 + s) * 0.25.</summary>
    public static void IQ2_XS(ReadOnlySpan<BlockIQ2XS> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockIQ2XS.Elements, dst);
        byte[] grid = IqGrids.Iq2Xs;
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockIQ2XS b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int ib = 0; ib < 8; ib++)
            {
                float db0 = d * (0.5f + (b.Scales[ib] & 0xF)) * 0.25f;
                float db1 = d * (0.5f + (b.Scales[ib] >> 4)) * 0.25f;
                for (int l = 0; l < 4; l++)
                {
                    int q = b.Qs[4 * ib + l];
                    int point = (q & 511) * 8;
                    byte signs = IqGrids.SignPattern(q >> 9);
                    float dl = l < 2 ? db0 : db1;
                    Span<float> yl = y.Slice(32 * ib + 8 * l, 8);
                    for (int j = 0; j < 8; j++)
                    {
                        yl[j] = dl * grid[point + j] * ((signs & (1 << j)) != 0 ? -1f : 1f);
                    }
                }
            }
        }
    }

    /// <summary>Per <c>dequantize_row_iq2_s</c>: 10-bit indices, explicit sign bytes.</summary>
    public static void IQ2_S(ReadOnlySpan<BlockIQ2S> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockIQ2S.Elements, dst);
        byte[] grid = IqGrids.Iq2S;
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockIQ2S b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int ib = 0; ib < 8; ib++)
            {
                float db0 = d * (0.5f + (b.Scales[ib] & 0xF)) * 0.25f;
                float db1 = d * (0.5f + (b.Scales[ib] >> 4)) * 0.25f;
                for (int l = 0; l < 4; l++)
                {
                    float dl = l < 2 ? db0 : db1;
                    int point = (b.Qs[4 * ib + l] | ((b.Qh[ib] << (8 - 2 * l)) & 0x300)) * 8;
                    byte signs = b.Qs[32 + 4 * ib + l];
                    Span<float> yl = y.Slice(32 * ib + 8 * l, 8);
                    for (int j = 0; j < 8; j++)
                    {
                        yl[j] = dl * grid[point + j] * ((signs & (1 << j)) != 0 ? -1f : 1f);
                    }
                }
            }
        }
    }

    /// <summary>Per <c>dequantize_row_iq3_xxs</c>: db = d * (0.5 + s) * 0.5, two 4-value points per 8 weights.</summary>
    public static void IQ3_XXS(ReadOnlySpan<BlockIQ3XXS> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockIQ3XXS.Elements, dst);
        byte[] grid = IqGrids.Iq3Xxs;
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockIQ3XXS b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int ib = 0; ib < 8; ib++)
            {
                byte* qs = b.Qs + 8 * ib;
                uint signsAndScale = ReadUInt32(b.Qs + 64 + 4 * ib);
                float db = d * (0.5f + (signsAndScale >> 28)) * 0.5f;
                for (int l = 0; l < 4; l++)
                {
                    byte signs = IqGrids.SignPattern((int)(signsAndScale >> (7 * l)) & 127);
                    int point1 = qs[2 * l] * 4;
                    int point2 = qs[2 * l + 1] * 4;
                    Span<float> yl = y.Slice(32 * ib + 8 * l, 8);
                    for (int j = 0; j < 4; j++)
                    {
                        yl[j] = db * grid[point1 + j] * ((signs & (1 << j)) != 0 ? -1f : 1f);
                        yl[j + 4] = db * grid[point2 + j] * ((signs & (1 << (j + 4))) != 0 ? -1f : 1f);
                    }
                }
            }
        }
    }

    /// <summary>Per <c>dequantize_row_iq3_s</c>: one scale d * (1 + 2s) per pair of groups, 9-bit indices.</summary>
    public static void IQ3_S(ReadOnlySpan<BlockIQ3S> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockIQ3S.Elements, dst);
        byte[] grid = IqGrids.Iq3S;
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockIQ3S b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int ib = 0; ib < 8; ib++)
            {
                int scale = b.Scales[ib / 2];
                float db = d * (1 + 2 * (ib % 2 == 0 ? scale & 0xF : scale >> 4));
                byte* qs = b.Qs + 8 * ib;
                byte* signs = b.Signs + 4 * ib;
                int qh = b.Qh[ib];
                for (int l = 0; l < 4; l++)
                {
                    int point1 = (qs[2 * l] | ((qh << (8 - 2 * l)) & 256)) * 4;
                    int point2 = (qs[2 * l + 1] | ((qh << (7 - 2 * l)) & 256)) * 4;
                    Span<float> yl = y.Slice(32 * ib + 8 * l, 8);
                    for (int j = 0; j < 4; j++)
                    {
                        yl[j] = db * grid[point1 + j] * ((signs[l] & (1 << j)) != 0 ? -1f : 1f);
                        yl[j + 4] = db * grid[point2 + j] * ((signs[l] & (1 << (j + 4))) != 0 ? -1f : 1f);
                    }
                }
            }
        }
    }

    /// <summary>ggml-common.h IQ1S_DELTA: the shift added to every grid value of IQ1_S and IQ1_M.</summary>
    private const float Iq1Delta = 0.125f;

    /// <summary>Per <c>dequantize_row_iq1_s</c>: y = (d * (2s + 1)) * (grid + delta).</summary>
    public static void IQ1_S(ReadOnlySpan<BlockIQ1S> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockIQ1S.Elements, dst);
        sbyte[] grid = IqGrids.Iq1S;
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockIQ1S b = blocks[i];
            float d = Fp16.ToFloat(b.D);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int ib = 0; ib < 8; ib++)
            {
                int qh = b.Qh[ib];
                float dl = d * (2 * ((qh >> 12) & 7) + 1);
                float delta = (qh & 0x8000) != 0 ? -Iq1Delta : Iq1Delta;
                for (int l = 0; l < 4; l++)
                {
                    int point = (b.Qs[4 * ib + l] | (((qh >> (3 * l)) & 7) << 8)) * 8;
                    Span<float> yl = y.Slice(32 * ib + 8 * l, 8);
                    for (int j = 0; j < 8; j++)
                    {
                        yl[j] = dl * (grid[point + j] + delta);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Per <c>dequantize_row_iq1_m</c>: the half super-block scale is assembled from the top nibbles of the four
    /// little-endian uint16 words in Scales; each 16 weights get d * (2s + 1) and each 8 their own delta sign.
    /// </summary>
    public static void IQ1_M(ReadOnlySpan<BlockIQ1M> blocks, Span<float> dst)
    {
        CheckLength(blocks.Length, BlockIQ1M.Elements, dst);
        sbyte[] grid = IqGrids.Iq1S;
        Span<int> sc = stackalloc int[4];
        for (int i = 0; i < blocks.Length; i++)
        {
            BlockIQ1M b = blocks[i];
            for (int k = 0; k < 4; k++)
            {
                sc[k] = b.Scales[2 * k] | (b.Scales[2 * k + 1] << 8);
            }
            int scaleBits = (sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000);
            float d = Fp16.ToFloat((ushort)scaleBits);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int ib = 0; ib < 8; ib++)
            {
                float dl1 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2))) & 0x7) + 1);
                float dl2 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 0x7) + 1);
                byte* qs = b.Qs + 4 * ib;
                byte* qh = b.Qh + 2 * ib;
                for (int l = 0; l < 4; l++)
                {
                    // Each qh byte serves two runs of 8: low nibble for the first, high nibble for the second.
                    int h = qh[l / 2] >> (4 * (l % 2));
                    int point = (qs[l] | ((h & 7) << 8)) * 8;
                    float delta = (h & 0x08) != 0 ? -Iq1Delta : Iq1Delta;
                    float dl = l < 2 ? dl1 : dl2;
                    Span<float> yl = y.Slice(32 * ib + 8 * l, 8);
                    for (int j = 0; j < 8; j++)
                    {
                        yl[j] = dl * (grid[point + j] + delta);
                    }
                }
            }
        }
    }
}
