namespace Flywheel.Tensors.Tests;

/// <summary>
/// A theory that runs only when FLYWHEEL_GGML_QTOOL names an executable built against llama.cpp's ggml
/// (usage: <c>ggml-qtool quant TYPE rows cols in.f32 out.bin</c> / <c>dequant TYPE rows cols in.bin out.f32</c>);
/// otherwise it is skipped with that reason. It lets a developer compare many more inputs than the fixtures hold.
/// </summary>
public sealed class LlamaCppToolTheoryAttribute : TheoryAttribute
{
    public const string Variable = "FLYWHEEL_GGML_QTOOL";

    public LlamaCppToolTheoryAttribute()
    {
        if (ToolPath is null)
        {
            Skip = $"set {Variable} to a ggml-qtool binary to compare against llama.cpp directly";
        }
    }

    public static string? ToolPath =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path && File.Exists(path) ? path : null;
}
