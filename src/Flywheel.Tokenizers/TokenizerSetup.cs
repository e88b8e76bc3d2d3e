namespace Flywheel.Tokenizers;

/// <summary>Everything a loader hands to <see cref="Tokenizer"/>'s constructor.</summary>
internal sealed class TokenizerSetup
{
    public required TokenizerKind Kind { get; init; }
    public required Vocabulary Vocabulary { get; init; }
    public required IFragmentEncoder Encoder { get; init; }
    public string? PreTokenizerName { get; init; }
    public int? BosId { get; init; }
    public int? EosId { get; init; }
    public int? EotId { get; init; }
    public int? EomId { get; init; }
    public int? UnknownId { get; init; }
    public int? PaddingId { get; init; }
    public bool AddBos { get; init; }
    public bool AddEos { get; init; }
    public bool AddSpacePrefix { get; init; }

    /// <summary>Text normalizer applied to plain fragments (HF's NFC for Qwen), or null.</summary>
    public Func<string, string>? Normalize { get; init; }

    /// <summary>Added tokens that swallow whitespace on their left / right (HF lstrip / rstrip).</summary>
    public IReadOnlySet<int>? StripLeft { get; init; }
    public IReadOnlySet<int>? StripRight { get; init; }
}
