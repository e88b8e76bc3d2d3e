namespace Flywheel.Tensors;

/// <summary>The 16-entry non-linear codebook shared by IQ4_NL and IQ4_XS.</summary>
internal static class Iq4NlTable
{
    /// <summary>
    /// Values per ggml-common.h <c>kvalues_iq4nl</c>. Sorted ascending, which the quantizer's search relies on.
    /// </summary>
    public static ReadOnlySpan<sbyte> Values => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
}
