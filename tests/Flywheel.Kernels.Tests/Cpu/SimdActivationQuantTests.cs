using Flywheel.Kernels.Cpu;
using Flywheel.Kernels.Reference;
using Flywheel.Tensors;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>The SIMD Q8_0 and Q8_K activation quantization must give the reference's bytes exactly.</summary>
public sealed unsafe class SimdActivationQuantTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var kind in new[] { "random", "ties", "zeros", "tiny", "huge", "mixed" })
        {
            foreach (var n in new[] { 0, 32, 64, 96, 896, 4864, 5120 }) data.Add(kind, n);
        }
        return data;
    }

    [AcceleratedTheory]
    [MemberData(nameof(Cases))]
    public void Q8_0_matches_reference(string kind, int n) =>
        AssertSameBytes(GgmlType.Q8_0, Values(kind, n, seed: n * 31 + kind.Length), n / 32 * ActivationQuant.Q8_0BlockBytes);

    public static TheoryData<string, int> SuperBlockCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var kind in new[] { "random", "ties", "zeros", "tiny", "huge", "mixed", "rivals" })
        {
            foreach (var n in new[] { 0, 256, 512, 4864, 5120 }) data.Add(kind, n);
        }
        return data;
    }

    [AcceleratedTheory]
    [MemberData(nameof(SuperBlockCases))]
    public void Q8_K_matches_reference(string kind, int n) =>
        AssertSameBytes(GgmlType.Q8_K, Values(kind, n, seed: n * 17 + kind.Length), n / 256 * ActivationQuant.Q8_KBlockBytes);

    [AcceleratedFact]
    public void Other_types_go_to_the_reference() => AssertSameBytes(GgmlType.Q8_1, Values("random", 512, seed: 5), 1024);

    /// <summary>Quantizes all of <paramref name="x"/> both ways into <paramref name="bytes"/> bytes and compares them.</summary>
    private static void AssertSameBytes(GgmlType type, float[] x, int bytes)
    {
        var expected = new byte[bytes];
        var actual = new byte[bytes];
        fixed (float* px = x)
        fixed (byte* pe = expected)
        fixed (byte* pa = actual)
        {
            ActivationQuant.Quantize(type, px, pe, x.Length);
            SimdActivationQuant.Quantize(type, px, pa, x.Length);
        }
        Assert.Equal(expected, actual);
    }

    [AcceleratedFact]
    public void Partial_blocks_are_rejected()
    {
        var x = new float[288];
        var y = new byte[2 * ActivationQuant.Q8_KBlockBytes];
        Assert.Throws<ArgumentException>(() =>
        {
            fixed (float* px = x)
            fixed (byte* py = y) SimdActivationQuant.Q8_0(px, py, 40);
        });
        Assert.Throws<ArgumentException>(() =>
        {
            fixed (float* px = x)
            fixed (byte* py = y) SimdActivationQuant.Q8_K(px, py, 288);
        });
    }

    /// <summary>
    /// Blocks that reach the awkward cases: exact half-way products (amax 127, so q = x, and x = k + 0.5), all
    /// zeros with negative zeros, subnormal and huge magnitudes, blocks mixing them with ordinary values, and (rivals)
    /// the largest magnitude twice with opposite signs, so that which one counts as the max decides the scale's sign.
    /// </summary>
    private static float[] Values(string kind, int n, int seed)
    {
        var random = new Random(seed);
        var x = new float[n];
        for (var i = 0; i < n; i++)
        {
            var block = i / 32;
            x[i] = kind switch
            {
                "random" => (float)(random.NextDouble() * 8 - 4),
                "ties" => i % 32 == 0 ? 127f : (random.Next(-126, 126) + 0.5f) * (block % 2 == 0 ? 1 : -1),
                "zeros" => i % 2 == 0 ? 0f : -0f,
                "tiny" => (float)((random.NextDouble() * 2 - 1) * 1e-40),
                "huge" => (float)((random.NextDouble() * 2 - 1) * 3e38),
                "rivals" => (i % 256) switch
                {
                    3 => block % 2 == 0 ? -5f : 5f,
                    200 => block % 2 == 0 ? 5f : -5f,
                    _ => (float)(random.NextDouble() * 8 - 4),
                },
                _ => (block % 4) switch
                {
                    0 => (float)(random.NextDouble() * 2 - 1),
                    1 => i % 32 == 5 ? 1e-3f : 0f,
                    2 => (float)(random.NextDouble() * 2 - 1) * 1e4f,
                    _ => (random.Next(-20, 20) + 0.5f) / 20f,
                },
            };
        }
        return x;
    }
}
