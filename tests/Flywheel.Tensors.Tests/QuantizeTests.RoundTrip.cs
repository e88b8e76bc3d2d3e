namespace Flywheel.Tensors.Tests;

// Quantize -> dequantize on awkward inputs. Errors are measured per block, relative to the block's largest
// magnitude, so one tolerance holds at every scale. The tolerances are named per format and sit a little above
// what the ggml algorithms reach on these inputs; theoretical bounds are noted where they are simple.
public partial class QuantizeTests
{
    /// <summary>Largest |x - y| in a block over the largest |x| in it, and RMS error over RMS for normal data.</summary>
    public sealed record Tolerance(double MaxBlockError, double NormalRelativeRms);

    public static readonly Tolerance F16Tolerance = new(0.0005, 0.0003);   // 2^-11 relative rounding
    public static readonly Tolerance BF16Tolerance = new(0.0040, 0.0020);  // 2^-8 relative rounding
    public static readonly Tolerance Q8_0Tolerance = new(0.0065, 0.0060);  // 1/254 plus the half scale's rounding (subnormal for "tiny")
    public static readonly Tolerance Q8_KTolerance = new(0.0040, 0.0075);  // 1/254, float scale
    public static readonly Tolerance Q4_0Tolerance = new(0.1270, 0.0900);  // 1/8: the side opposite the extreme has 7 levels
    public static readonly Tolerance Q4_1Tolerance = new(0.0680, 0.0800);  // range/30 <= 1/15
    public static readonly Tolerance Q5_0Tolerance = new(0.0640, 0.0450);  // 1/16
    public static readonly Tolerance Q5_1Tolerance = new(0.0340, 0.0400);  // range/62 <= 1/31
    public static readonly Tolerance Q2_KTolerance = new(0.4000, 0.3100);
    public static readonly Tolerance Q3_KTolerance = new(0.2700, 0.1600);
    public static readonly Tolerance Q4_KTolerance = new(0.1100, 0.0750);
    public static readonly Tolerance Q5_KTolerance = new(0.0700, 0.0400);
    public static readonly Tolerance Q6_KTolerance = new(0.0550, 0.0200);
    public static readonly Tolerance IQ4_NLTolerance = new(0.1450, 0.0800);
    public static readonly Tolerance IQ4_XSTolerance = new(0.1450, 0.0800);
    public static readonly Tolerance IQ1_STolerance = new(1.1000, 0.5000);  // 1.5-bit: only bounded, never close
    public static readonly Tolerance IQ1_MTolerance = new(1.2000, 0.6100);
    public static readonly Tolerance IQ2_XXSTolerance = new(0.8000, 0.3600); // 2-bit lattice formats are coarse
    public static readonly Tolerance IQ2_XSTolerance = new(0.7800, 0.3200);
    public static readonly Tolerance IQ2_STolerance = new(0.6800, 0.2900);
    public static readonly Tolerance IQ3_XXSTolerance = new(0.8000, 0.2200); // without an importance matrix IQ3 is coarse
    public static readonly Tolerance IQ3_STolerance = new(0.4300, 0.1700);
    public static readonly Tolerance MXFP4Tolerance = new(0.2600, 0.1200);  // power-of-two scale, E2M1 spacing
    public static readonly Tolerance TernaryTolerance = new(0.5100, 0.8500); // -1, 0, 1 times amax: made for ternary weights

    private static Tolerance ToleranceOf(GgmlType type) => type switch
    {
        GgmlType.F16 => F16Tolerance,
        GgmlType.BF16 => BF16Tolerance,
        GgmlType.Q8_0 => Q8_0Tolerance,
        GgmlType.Q8_K => Q8_KTolerance,
        GgmlType.Q4_0 => Q4_0Tolerance,
        GgmlType.Q4_1 => Q4_1Tolerance,
        GgmlType.Q5_0 => Q5_0Tolerance,
        GgmlType.Q5_1 => Q5_1Tolerance,
        GgmlType.Q2_K => Q2_KTolerance,
        GgmlType.Q3_K => Q3_KTolerance,
        GgmlType.Q4_K => Q4_KTolerance,
        GgmlType.Q5_K => Q5_KTolerance,
        GgmlType.Q6_K => Q6_KTolerance,
        GgmlType.IQ4_NL => IQ4_NLTolerance,
        GgmlType.IQ4_XS => IQ4_XSTolerance,
        GgmlType.IQ1_S => IQ1_STolerance,
        GgmlType.IQ1_M => IQ1_MTolerance,
        GgmlType.IQ2_XXS => IQ2_XXSTolerance,
        GgmlType.IQ2_XS => IQ2_XSTolerance,
        GgmlType.IQ2_S => IQ2_STolerance,
        GgmlType.IQ3_XXS => IQ3_XXSTolerance,
        GgmlType.IQ3_S => IQ3_STolerance,
        GgmlType.MXFP4 => MXFP4Tolerance,
        GgmlType.TQ1_0 or GgmlType.TQ2_0 => TernaryTolerance,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static readonly GgmlType[] LossyTypes =
    [
        GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K,
        GgmlType.IQ4_NL, GgmlType.IQ4_XS, GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ2_S,
        GgmlType.IQ3_XXS, GgmlType.IQ3_S, GgmlType.MXFP4, GgmlType.TQ1_0, GgmlType.TQ2_0,
    ];

    private static readonly string[] Inputs = ["normal", "outliers", "tiny", "constant", "negative-constant", "ramp", "uniform", "positive"];

    public static TheoryData<GgmlType, string> RoundTripCases()
    {
        var data = new TheoryData<GgmlType, string>();
        foreach (var type in LossyTypes)
        {
            foreach (var input in Inputs)
            {
                data.Add(type, input);
            }
        }
        return data;
    }

    public static TheoryData<GgmlType> Types()
    {
        var data = new TheoryData<GgmlType>();
        foreach (var type in LossyTypes)
        {
            data.Add(type);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void Round_trip_error_stays_within_the_named_tolerance(GgmlType type, string input)
    {
        var tolerance = ToleranceOf(type);
        float[] x = MakeInput(input, 4096, seed: 1234);
        float[] y = RoundTrip(type, x);

        // K formats share scales across 256 values, so that is the unit the error is measured against.
        int group = GgmlTypeInfo.Get(type).BlockSize == 256 ? 256 : 32;
        double worst = 0;
        for (int b = 0; b < x.Length / group; b++)
        {
            double amax = 0;
            double emax = 0;
            for (int i = b * group; i < (b + 1) * group; i++)
            {
                amax = Math.Max(amax, Math.Abs(x[i]));
                emax = Math.Max(emax, Math.Abs(x[i] - y[i]));
            }
            worst = Math.Max(worst, emax / amax);
        }
        Assert.True(worst <= tolerance.MaxBlockError, $"{type} on {input}: block error {worst:F5} > {tolerance.MaxBlockError}");

        if (input == "normal")
        {
            double se = 0;
            double ss = 0;
            for (int i = 0; i < x.Length; i++)
            {
                se += (double)(x[i] - y[i]) * (x[i] - y[i]);
                ss += (double)x[i] * x[i];
            }
            double rms = Math.Sqrt(se / ss);
            Assert.True(rms <= tolerance.NormalRelativeRms, $"{type}: relative RMS error {rms:F5} > {tolerance.NormalRelativeRms}");
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Zeros_come_back_as_zeros(GgmlType type)
    {
        float[] y = RoundTrip(type, new float[512]);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void A_row_is_its_blocks_quantized_independently(GgmlType type)
    {
        // Rows of 1, 3 and 25 blocks: each block's bytes must not depend on its neighbours.
        int blockSize = GgmlTypeInfo.Get(type).BlockSize;
        int unit = Math.Max(blockSize, 32);
        int typeSize = GgmlTypeInfo.Get(type).TypeSize * (unit / blockSize);
        foreach (int units in new[] { 1, 3, 25 })
        {
            float[] x = MakeInput("outliers", units * unit, seed: units);
            float[] importance = UnitImportance(type, x.Length);
            var whole = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
            Quantize.Row(type, x, whole, importance);
            var piece = new byte[typeSize];
            for (int u = 0; u < units; u++)
            {
                Quantize.Row(type, x.AsSpan(u * unit, unit), piece, importance.AsSpan(importance.Length == 0 ? 0 : u * unit, importance.Length == 0 ? 0 : unit));
                Assert.True(piece.AsSpan().SequenceEqual(whole.AsSpan(u * typeSize, typeSize)), $"{type}: unit {u} of {units}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Requantizing_a_dequantized_row_is_stable(GgmlType type)
    {
        // Values already on the grid should survive another pass with little extra error (at most one more
        // tolerance step; most formats reproduce them exactly).
        var tolerance = ToleranceOf(type);
        float[] x = MakeInput("normal", 1024, seed: 7);
        float[] once = RoundTrip(type, x);
        float[] twice = RoundTrip(type, once);
        double amax = once.Max(v => Math.Abs(v));
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(Math.Abs(once[i] - twice[i]) <= tolerance.MaxBlockError * amax, $"{type} at {i}: {once[i]} then {twice[i]}");
        }
    }

    [Theory]
    [InlineData(GgmlType.TQ1_0)]
    [InlineData(GgmlType.TQ2_0)]
    public void Ternary_weights_come_back_exactly(GgmlType type)
    {
        // The formats exist for {-a, 0, a} weights (BitNet b1.58); with a exactly representable in half, they are exact.
        var rng = new Random(5);
        float[] x = Enumerable.Range(0, 768).Select(_ => (rng.Next(3) - 1) * 0.75f).ToArray();
        Assert.Equal(x, RoundTrip(type, x));
    }

    [Fact]
    public void Mxfp4_values_on_the_fp4_grid_come_back_exactly()
    {
        // E2M1 magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6 times a power of two, with 6 present so the scale is chosen to fit.
        float[] grid = [0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f];
        var rng = new Random(6);
        float[] x = Enumerable.Range(0, 64)
            .Select(i => (i % 32 == 0 ? 6f : grid[rng.Next(8)] * (rng.Next(2) == 0 ? 1 : -1)) * 0.125f)
            .ToArray();
        Assert.Equal(x, RoundTrip(GgmlType.MXFP4, x));
    }

    /// <summary>All-ones importance for the formats that cannot be quantized without one, else none.</summary>
    private static float[] UnitImportance(GgmlType type, int n) => Quantize.NeedsImportance(type) ? Enumerable.Repeat(1f, n).ToArray() : [];

    private static float[] RoundTrip(GgmlType type, float[] x)
    {
        var bytes = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
        Quantize.Row(type, x, bytes, UnitImportance(type, x.Length));
        var y = new float[x.Length];
        Dequantize.Row(type, bytes, y);
        return y;
    }

    /// <summary>Deterministic test inputs; "tiny" is small enough to push the half scales into subnormals.</summary>
    internal static float[] MakeInput(string kind, int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - rng.NextDouble();
            double u2 = rng.NextDouble();
            double normal = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            x[i] = kind switch
            {
                "normal" => (float)normal,
                "outliers" => (float)(rng.Next(50) == 0 ? normal * 100 : normal),
                "tiny" => (float)(normal * 1e-3),
                "constant" => 0.37f,
                "negative-constant" => -2.5f,
                "ramp" => (i % 256) / 255f - 0.3f,
                "uniform" => (float)(rng.NextDouble() * 2 - 1),
                "positive" => (float)Math.Abs(normal) + 0.5f,
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
        }
        return x;
    }
}
