using Xunit.Abstractions;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>The CPU set's vectorized RoPE against the reference, both pairings, partial rotation and scaling.</summary>
public sealed class CpuRopeTests(ITestOutputHelper output)
{
    /// <summary>The angles are the reference's and the rotation uses the same products and sums, so results are bit-identical.</summary>
    public const float RopeTolerance = 0f;

    public static TheoryData<string, bool, int, int, int, int, string> Cases()
    {
        var data = new TheoryData<string, bool, int, int, int, int, string>();
        foreach (var set in KernelSetParity.Names)
        {
            foreach (var neox in new[] { false, true })
            {
                // rows, heads, head size, rotated dims, scaling: Qwen2.5-0.5B's 14 × 64 at a decode row and a long
                // prompt, head sizes 128 and odd ones (tails of 2, 6 and 14 lanes), partial rotation, YaRN and
                // Llama-3 frequency factors.
                data.Add(set, neox, 0, 14, 64, 64, "none");
                data.Add(set, neox, 1, 14, 64, 64, "none");
                data.Add(set, neox, 769, 2, 64, 64, "none");
                data.Add(set, neox, 70, 8, 128, 128, "none");
                data.Add(set, neox, 5, 3, 6, 6, "none");
                data.Add(set, neox, 17, 2, 30, 30, "none");
                data.Add(set, neox, 9, 4, 46, 28, "none");
                data.Add(set, neox, 33, 4, 64, 32, "yarn");
                data.Add(set, neox, 40, 4, 128, 128, "factors");
                data.Add(set, neox, 3, 1, 256, 256, "linear");
            }
        }
        return data;
    }

    [AcceleratedTheory]
    [MemberData(nameof(Cases))]
    public void Rope_matches_reference(string set, bool neox, int rows, int heads, int headDim, int dims, string scaling)
    {
        var kernels = KernelSetParity.Get(set);
        var rope = scaling switch
        {
            "yarn" => new RopeParameters { Dimensions = dims, NeoX = neox, FreqBase = 1e6f, FreqScale = 0.25f, ExtFactor = 1f, OriginalContextLength = 4096 },
            "factors" => new RopeParameters
            {
                Dimensions = dims, NeoX = neox, FreqBase = 500000f,
                FreqFactors = Enumerable.Range(0, dims / 2).Select(i => 1f + i % 7 * 0.75f).ToArray(),
            },
            "linear" => new RopeParameters { Dimensions = dims, NeoX = neox, FreqScale = 0.5f },
            _ => new RopeParameters { Dimensions = dims, NeoX = neox, FreqBase = 1e6f },
        };
        var r = new Random(rows * 31 + headDim);
        var x = new float[rows * heads * headDim];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(r.NextDouble() * 8 - 4);
        // Positions out of order, with a far one, as a batch of several sequences has them.
        var positions = Enumerable.Range(0, rows).Select(t => t % 3 == 2 ? 30000 + t : t * 7 % 1000).ToArray();
        var expected = (float[])x.Clone();
        KernelSets.Reference.Rope(expected, rows, heads, headDim, positions, rope);
        kernels.Rope(x, rows, heads, headDim, positions, rope);
        var maxDiff = 0f;
        for (var i = 0; i < x.Length; i++) maxDiff = MathF.Max(maxDiff, MathF.Abs(expected[i] - x[i]));
        output.WriteLine($"{set} {(neox ? "neox" : "normal")} {rows}×{heads}×{headDim} dims {dims} {scaling}: max |Δ| = {maxDiff}");
        Assert.True(maxDiff <= RopeTolerance, $"max difference {maxDiff}");
        if (rows > 0) Assert.NotEqual(0f, expected.Zip(x).Max(p => MathF.Abs(p.First)));
    }

    [AcceleratedFact]
    public void Rope_refuses_bad_shapes()
    {
        var kernels = KernelSetParity.Get("avx2");
        var x = new float[2 * 8];
        var ex = Assert.Throws<ArgumentException>(() => kernels.Rope(x, 2, 1, 8, [0, 1], new RopeParameters { Dimensions = 10, NeoX = true }));
        Assert.Contains("at most the head size", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => kernels.Rope(x, 3, 1, 8, [0, 1, 2], new RopeParameters { Dimensions = 8, NeoX = false }));
        Assert.Contains("need 3×1×8", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => kernels.Rope(x, 2, 1, 8, [0], new RopeParameters { Dimensions = 8, NeoX = false }));
        Assert.Contains("one position per row", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => kernels.Rope(x, 2, 1, 8, [0, 1], new RopeParameters { Dimensions = 8, NeoX = true, FreqFactors = [1f] }));
        Assert.Contains("frequency factors", ex.Message);
    }
}
