namespace Flywheel.Models;

/// <summary>Sizes of a <see cref="ModelSession"/>'s buffers, fixed at creation.</summary>
public sealed record SessionOptions
{
    /// <summary>KV cache positions; null means min(trained context, <see cref="Model.DefaultMaxContextLength"/>).</summary>
    public int? ContextLength { get; init; }

    /// <summary>Most tokens per forward pass (llama.cpp's n_ubatch); longer prompts run in chunks.</summary>
    public int BatchSize { get; init; } = 512;
}
