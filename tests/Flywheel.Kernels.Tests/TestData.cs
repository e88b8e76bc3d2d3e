namespace Flywheel.Kernels.Tests;

/// <summary>Inputs the kernel tests share.</summary>
internal static class TestData
{
    /// <summary><paramref name="n"/> floats uniform in ±<paramref name="scale"/>, the same for the same seed.</summary>
    public static float[] RandomFloats(int n, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        var v = new float[n];
        for (var i = 0; i < n; i++) v[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return v;
    }
}
