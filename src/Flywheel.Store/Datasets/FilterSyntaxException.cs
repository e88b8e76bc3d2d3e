namespace Flywheel.Store.Datasets;

/// <summary>A <c>--where</c> expression that does not parse. <see cref="Position"/> is the 1-based character where it went wrong.</summary>
public sealed class FilterSyntaxException(string expression, int position, string problem)
    : Exception($"bad filter at position {position}: {problem}\n  {expression}\n  {new string(' ', Math.Max(0, position - 1))}^")
{
    public string Expression { get; } = expression;

    public int Position { get; } = position;

    public string Problem { get; } = problem;
}
