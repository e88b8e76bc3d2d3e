namespace Flywheel.Engine.Sampling;

/// <summary>When a <see cref="GenerationLoop"/> stops.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate.</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>Token ids that end generation (EOS, EOT); the stop token itself is not part of the text.</summary>
    public IReadOnlySet<int> StopTokenIds { get; init; } = new HashSet<int>();

    /// <summary>Strings that end generation; the text is cut before the first match, which is never emitted.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
}

public enum FinishReason
{
    /// <summary><see cref="GenerationOptions.MaxTokens"/> reached.</summary>
    Length,
    StopToken,
    StopString,
    /// <summary>The session's context is full.</summary>
    ContextFull,
    /// <summary>A constraint (JSON schema, forced tool call) saw its value complete; nothing more may follow.</summary>
    ConstraintComplete,
}

/// <summary>
/// One generated token. <see cref="Text"/> is the text safe to show now: it may be empty while a possible stop
/// string is held back, and later tokens may release held text. <see cref="Finish"/> is set on the last one.
/// <see cref="TopLogProbs"/> holds the most likely alternatives at this step, best first, when
/// <see cref="SamplingOptions.TopLogProbs"/> asked for them (null otherwise, and for id −1).
/// </summary>
public readonly record struct GeneratedToken(int Id, string Text, float LogProb, FinishReason? Finish, TokenLogProb[]? TopLogProbs = null);

/// <summary>The whole result of <see cref="GenerationLoop.Run"/>.</summary>
public sealed record GenerationResult(IReadOnlyList<int> TokenIds, string Text, FinishReason Finish);
