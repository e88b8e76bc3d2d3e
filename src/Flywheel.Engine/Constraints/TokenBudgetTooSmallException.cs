namespace Flywheel.Engine.Constraints;

/// <summary>
/// A constrained generation may produce fewer tokens (<see cref="MaxTokens"/>) than the shortest output its format
/// allows takes (<see cref="NeededTokens"/>, counting one token per byte), so it could only end unfinished. A schema
/// whose every value is infinite (a required property that recurses into itself) has no finite output at all.
/// </summary>
public sealed class TokenBudgetTooSmallException(int maxTokens, int neededTokens)
    : Exception(neededTokens >= MinimalOutput.Unbounded
        ? "this format allows no finite output (a required property leads back to its own object), so no limit fits it"
        : $"the shortest output this format allows takes {neededTokens} tokens, more than the {maxTokens} this request may produce")
{
    public int MaxTokens { get; } = maxTokens;
    public int NeededTokens { get; } = neededTokens;

    /// <summary>No limit would do: the format allows no finite output.</summary>
    public bool NoFiniteOutput => NeededTokens >= MinimalOutput.Unbounded;
}
