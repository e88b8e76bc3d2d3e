namespace Flywheel.Tensors;

/// <summary>
/// Block geometry of each <see cref="GgmlType"/>: how many elements one block holds and how many bytes it takes.
/// Figures follow ggml's type traits table (ggml.c, <c>type_traits</c>).
/// </summary>
public static class GgmlTypeInfo
{
    /// <summary>Elements per K-quant super-block (<c>QK_K</c> in ggml).</summary>
    public const int QK_K = 256;

    public readonly record struct Layout(int BlockSize, int TypeSize, string Name);

    private static readonly Dictionary<GgmlType, Layout> Layouts = new()
    {
        [GgmlType.F32] = new(1, 4, "F32"),
        [GgmlType.F16] = new(1, 2, "F16"),
        [GgmlType.BF16] = new(1, 2, "BF16"),
        [GgmlType.F64] = new(1, 8, "F64"),
        [GgmlType.I8] = new(1, 1, "I8"),
        [GgmlType.I16] = new(1, 2, "I16"),
        [GgmlType.I32] = new(1, 4, "I32"),
        [GgmlType.I64] = new(1, 8, "I64"),
        [GgmlType.Q4_0] = new(32, 18, "Q4_0"),
        [GgmlType.Q4_1] = new(32, 20, "Q4_1"),
        [GgmlType.Q5_0] = new(32, 22, "Q5_0"),
        [GgmlType.Q5_1] = new(32, 24, "Q5_1"),
        [GgmlType.Q8_0] = new(32, 34, "Q8_0"),
        [GgmlType.Q8_1] = new(32, 36, "Q8_1"),
        [GgmlType.Q2_K] = new(256, 84, "Q2_K"),
        [GgmlType.Q3_K] = new(256, 110, "Q3_K"),
        [GgmlType.Q4_K] = new(256, 144, "Q4_K"),
        [GgmlType.Q5_K] = new(256, 176, "Q5_K"),
        [GgmlType.Q6_K] = new(256, 210, "Q6_K"),
        [GgmlType.Q8_K] = new(256, 292, "Q8_K"),
        [GgmlType.IQ2_XXS] = new(256, 66, "IQ2_XXS"),
        [GgmlType.IQ2_XS] = new(256, 74, "IQ2_XS"),
        [GgmlType.IQ3_XXS] = new(256, 98, "IQ3_XXS"),
        [GgmlType.IQ1_S] = new(256, 50, "IQ1_S"),
        [GgmlType.IQ4_NL] = new(32, 18, "IQ4_NL"),
        [GgmlType.IQ3_S] = new(256, 110, "IQ3_S"),
        [GgmlType.IQ2_S] = new(256, 82, "IQ2_S"),
        [GgmlType.IQ4_XS] = new(256, 136, "IQ4_XS"),
        [GgmlType.IQ1_M] = new(256, 56, "IQ1_M"),
        [GgmlType.TQ1_0] = new(256, 54, "TQ1_0"),
        [GgmlType.TQ2_0] = new(256, 66, "TQ2_0"),
        [GgmlType.MXFP4] = new(32, 17, "MXFP4"),
    };

    /// <summary>True when <paramref name="type"/> is a type the GGUF format defines.</summary>
    public static bool IsKnown(GgmlType type) => Layouts.ContainsKey(type);

    public static Layout Get(GgmlType type) =>
        Layouts.TryGetValue(type, out var layout)
            ? layout
            : throw new ArgumentOutOfRangeException(nameof(type), $"unknown tensor type {(uint)type}");

    public static string Name(GgmlType type) =>
        Layouts.TryGetValue(type, out var layout) ? layout.Name : $"type{(uint)type}";

    /// <summary>
    /// Bytes taken by one row of <paramref name="elements"/> elements, or -1 when the row length is not a
    /// whole number of blocks (such a tensor cannot be stored in this type).
    /// </summary>
    public static long RowBytes(GgmlType type, long elements)
    {
        var layout = Get(type);
        if (elements % layout.BlockSize != 0)
        {
            return -1;
        }
        return elements / layout.BlockSize * layout.TypeSize;
    }
}
