using System.Numerics;

namespace Flywheel.Tensors;

/// <summary>
/// Lookup tables of the lattice-codebook IQ formats (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M), expanded
/// once from the compact codes in <see cref="IqGridsCodes"/> into the byte grids ggml indexes (ggml-common.h).
/// </summary>
internal static class IqGrids
{
    /// <summary>iq2xxs_grid as 256 x 8 bytes.</summary>
    public static readonly byte[] Iq2Xxs = Expand(IqGridsCodes.Iq2Xxs, 8, 2, [8, 25, 43]);

    /// <summary>iq2xs_grid as 512 x 8 bytes.</summary>
    public static readonly byte[] Iq2Xs = Expand(IqGridsCodes.Iq2Xs, 8, 2, [8, 25, 43]);

    /// <summary>iq2s_grid as 1024 x 8 bytes.</summary>
    public static readonly byte[] Iq2S = Expand(IqGridsCodes.Iq2S, 8, 2, [8, 25, 43]);

    /// <summary>iq3xxs_grid as 256 x 4 bytes.</summary>
    public static readonly byte[] Iq3Xxs = Expand(IqGridsCodes.Iq3Xxs, 4, 3, [4, 12, 20, 28, 36, 44, 52, 62]);

    /// <summary>iq3s_grid as 512 x 4 bytes.</summary>
    public static readonly byte[] Iq3S = Expand(IqGridsCodes.Iq3S, 4, 3, [1, 3, 5, 7, 9, 11, 13, 15]);

    /// <summary>iq1s_grid as 2048 x 8 signed bytes (each -1, 0 or 1).</summary>
    public static readonly sbyte[] Iq1S = ExpandSigned(IqGridsCodes.Iq1S);

    /// <summary>
    /// ggml-common.h <c>ksigns_iq2xs</c>: 7 stored sign bits plus an eighth chosen so that the number of negative
    /// signs is even (the formats only store sign patterns of even parity), computed rather than tabled.
    /// </summary>
    public static byte SignPattern(int sevenBits)
    {
        int parity = BitOperations.PopCount((uint)sevenBits) & 1;
        return (byte)(sevenBits | (parity << 7));
    }

    private static byte[] Expand(ReadOnlySpan<ushort> codes, int width, int bits, ReadOnlySpan<byte> levels)
    {
        var grid = new byte[codes.Length * width];
        int mask = (1 << bits) - 1;
        for (int i = 0; i < codes.Length; i++)
        {
            for (int j = 0; j < width; j++)
            {
                grid[i * width + j] = levels[(codes[i] >> (bits * j)) & mask];
            }
        }
        return grid;
    }

    private static sbyte[] ExpandSigned(ReadOnlySpan<ushort> codes)
    {
        var grid = new sbyte[codes.Length * 8];
        for (int i = 0; i < codes.Length; i++)
        {
            for (int j = 0; j < 8; j++)
            {
                grid[i * 8 + j] = (sbyte)(((codes[i] >> (2 * j)) & 3) - 1);
            }
        }
        return grid;
    }
}
