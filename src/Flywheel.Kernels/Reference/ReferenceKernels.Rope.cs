using System.Runtime.CompilerServices;
namespace Flywheel.Kernels.Reference;

public sealed partial class ReferenceKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Rope(Span<float> data, int rows, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        var dims = rope.Dimensions;
        if (dims > headDim || dims % 2 != 0) throw new ArgumentException($"rope dimensions {dims} must be even and at most the head size {headDim}");
        // ggml_compute_forward_rope: theta_i = p · base^(−2i/dims), built by repeated multiplication in float.
        var thetaScale = MathF.Pow(rope.FreqBase, -2f / dims);
        Span<float> corr = stackalloc float[2];
        YarnCorrectionDims(dims, rope.OriginalContextLength, rope.FreqBase, rope.BetaFast, rope.BetaSlow, corr);
        Span<float> cache = stackalloc float[dims]; // [dims/2 pairs of (cos, sin)]
        for (var t = 0; t < rows; t++)
        {
            var theta = (float)positions[t];
            for (var i0 = 0; i0 < dims; i0 += 2)
            {
                var ff = rope.FreqFactors is { } f ? f[i0 / 2] : 1f;
                RopeYarn(theta / ff, rope.FreqScale, corr, i0, rope.ExtFactor, rope.AttnFactor, out cache[i0], out cache[i0 + 1]);
                theta *= thetaScale;
            }
            for (var h = 0; h < heads; h++)
            {
                var x = data.Slice((t * heads + h) * headDim, headDim);
                for (var i0 = 0; i0 < dims; i0 += 2)
                {
                    var cos = cache[i0];
                    var sin = cache[i0 + 1];
                    // Normal mode pairs neighbours; NeoX pairs element i with i + dims/2.
                    var a = rope.NeoX ? i0 / 2 : i0;
                    var b = rope.NeoX ? i0 / 2 + dims / 2 : i0 + 1;
                    var x0 = x[a];
                    var x1 = x[b];
                    x[a] = x0 * cos - x1 * sin;
                    x[b] = x0 * sin + x1 * cos;
                }
            }
        }
    }

    // ggml.c ggml_rope_yarn_corr_dim(s): the dimension where the wavelength spans n_rot turns in the original context.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void YarnCorrectionDims(int dims, int originalContext, float freqBase, float betaFast, float betaSlow, Span<float> corr)
    {
        if (originalContext <= 0)
        {
            corr[0] = 0;
            corr[1] = dims - 1;
            return;
        }
        static float CorrDim(int dims, int ctx, float rotations, float b) =>
            dims * MathF.Log(ctx / (rotations * 2 * MathF.PI)) / (2 * MathF.Log(b));
        var start = MathF.Floor(CorrDim(dims, originalContext, betaFast, freqBase));
        var end = MathF.Ceiling(CorrDim(dims, originalContext, betaSlow, freqBase));
        corr[0] = MathF.Max(0, start);
        corr[1] = MathF.Min(dims - 1, end);
    }

    // ggml-cpu rope_yarn: interpolate (freq_scale) and, for YaRN, ramp towards extrapolation between the correction
    // dims, scaling the magnitude by 1 + 0.1·ln(1/freq_scale).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RopeYarn(float thetaExtrap, float freqScale, ReadOnlySpan<float> corr, int i0, float extFactor, float mscale,
        out float cos, out float sin)
    {
        var thetaInterp = freqScale * thetaExtrap;
        var theta = thetaInterp;
        if (extFactor != 0f)
        {
            var y = (i0 / 2 - corr[0]) / MathF.Max(0.001f, corr[1] - corr[0]);
            var rampMix = (1 - MathF.Min(1, MathF.Max(0, y))) * extFactor;
            theta = thetaInterp * (1 - rampMix) + thetaExtrap * rampMix;
            mscale *= 1f + 0.1f * MathF.Log(1f / freqScale);
        }
        cos = MathF.Cos(theta) * mscale;
        sin = MathF.Sin(theta) * mscale;
    }
}
