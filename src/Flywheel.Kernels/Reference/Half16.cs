using System.Runtime.CompilerServices;

namespace Flywheel.Kernels.Reference;

/// <summary>
/// binary16 conversions for the kernels' inner loops, through <see cref="Half"/> (hardware F16C where present).
/// For every non-NaN value they give the same bits as ggml's conversions (and <c>Flywheel.Tensors.Fp16</c>):
/// widening is exact and narrowing rounds to nearest even; only NaN payloads may differ, which no model relies on.
/// </summary>
public static class Half16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>The value rounded to binary16 and widened back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Round(float value) => (float)(Half)value;
}
