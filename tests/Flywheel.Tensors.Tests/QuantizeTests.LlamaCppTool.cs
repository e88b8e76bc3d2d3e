using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Flywheel.Tensors.Tests;

// Opt-in differential check against llama.cpp itself on many generated inputs (see LlamaCppToolTheoryAttribute).
public partial class QuantizeTests
{
    [LlamaCppToolTheory]
    [MemberData(nameof(RoundTripCases))]
    public void Matches_ggml_directly_on_generated_inputs(GgmlType type, string input)
    {
        if (!Quantize.NeedsImportance(type))
        {
            CompareWithTool(type, input, []);
        }
    }

    [LlamaCppToolTheory]
    [MemberData(nameof(RoundTripCases))]
    public void Matches_ggml_directly_with_an_importance_matrix(GgmlType type, string input)
    {
        var rng = new Random(3);
        float[] importance = Enumerable.Range(0, 1024).Select(_ => rng.Next(20) == 0 ? 0f : (float)Math.Exp(rng.NextDouble() * 4 - 2)).ToArray();
        CompareWithTool(type, input, importance);
    }

    private static void CompareWithTool(GgmlType type, string input, float[] importance)
    {
        const int rows = 16;
        const int cols = 1024;
        float[] x = MakeInput(input, rows * cols, seed: 99);
        string dir = Directory.CreateTempSubdirectory("flywheel-qtool-").FullName;
        try
        {
            string name = GgmlTypeInfo.Name(type);
            File.WriteAllBytes(Path.Combine(dir, "in.f32"), MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
            string importanceArgument = "";
            if (importance.Length > 0)
            {
                File.WriteAllBytes(Path.Combine(dir, "importance.f32"), MemoryMarshal.AsBytes(importance.AsSpan()).ToArray());
                importanceArgument = " importance.f32";
            }
            RunTool($"quant {name} {rows} {cols} in.f32 out.bin{importanceArgument}", dir);
            RunTool($"dequant {name} {rows} {cols} out.bin out.f32", dir);
            byte[] theirBytes = File.ReadAllBytes(Path.Combine(dir, "out.bin"));
            float[] theirFloats = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, "out.f32"))).ToArray();

            int rowBytes = checked((int)GgmlTypeInfo.RowBytes(type, cols));
            var ourBytes = new byte[rowBytes * rows];
            var ourFloats = new float[rows * cols];
            for (int r = 0; r < rows; r++)
            {
                Quantize.Row(type, x.AsSpan(r * cols, cols), ourBytes.AsSpan(r * rowBytes, rowBytes), importance);
                Dequantize.Row(type, theirBytes.AsSpan(r * rowBytes, rowBytes), ourFloats.AsSpan(r * cols, cols));
            }
            Assert.True(ourBytes.AsSpan().SequenceEqual(theirBytes), $"{name} on {input}: quantized bytes differ");
            Assert.True(MemoryMarshal.AsBytes(ourFloats.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(theirFloats.AsSpan())),
                $"{name} on {input}: dequantized floats differ");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void RunTool(string arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(LlamaCppToolTheoryAttribute.ToolPath!, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"ggml-qtool {arguments} failed: {errors}");
    }
}
