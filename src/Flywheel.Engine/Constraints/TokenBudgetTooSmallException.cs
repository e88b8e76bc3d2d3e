namespace Flywheel.Engine.Constraints;

/// <summary>
/// A constrained generation may produce fewer tokens (<see cref="MaxTokens"/>) than the shortest output its format
/// allows takes (<see cref="NeededTokens"/>, counting one token per byte), so it could only end unfinished.
/// </summary>
public sealed class TokenBudgetTooSmallException(int maxTokens, int neededTokens)
    : Exception($"the shortest output this format allows takes {neededTokens} tokens, more than the {maxTokens} this request may produce")
{
    public int MaxTokens { get; } = maxTokens;
    public int NeededTokens { get; } = neededTokens;
}
