namespace Flywheel.Kernels;

/// <summary>
/// Rotary position embedding settings, as ggml's <c>ggml_rope_ext</c> takes them.
/// <list type="bullet">
/// <item><see cref="NeoX"/>: false rotates adjacent pairs (x[2i], x[2i+1]) — llama.cpp's "normal" mode, used by
/// GGUF llama files; true rotates (x[i], x[i + dims/2]) — the NeoX mode used by Qwen2/Qwen3 and by Hugging Face
/// checkpoints of every architecture.</item>
/// <item><see cref="FreqScale"/> is 1/factor for linear and YaRN scaling.</item>
/// <item><see cref="ExtFactor"/> is non-zero only for YaRN (1.0 per llama.cpp's default); it blends interpolated and
/// extrapolated angles per dimension between the correction dims from <see cref="BetaFast"/>/<see cref="BetaSlow"/>.</item>
/// <item><see cref="FreqFactors"/> divides each pair's angle (Llama 3 scaling, GGUF tensor <c>rope_freqs.weight</c>).</item>
/// </list>
/// </summary>
public sealed record RopeParameters
{
    /// <summary>Rotated dimensions per head (n_rot); the rest of the head passes through.</summary>
    public required int Dimensions { get; init; }
    public required bool NeoX { get; init; }
    public float FreqBase { get; init; } = 10000f;
    public float FreqScale { get; init; } = 1f;
    public float ExtFactor { get; init; }
    public float AttnFactor { get; init; } = 1f;
    public float BetaFast { get; init; } = 32f;
    public float BetaSlow { get; init; } = 1f;
    /// <summary>Training context before scaling (YaRN's correction dims depend on it).</summary>
    public int OriginalContextLength { get; init; }
    /// <summary>[Dimensions / 2] or null.</summary>
    public float[]? FreqFactors { get; init; }
}
