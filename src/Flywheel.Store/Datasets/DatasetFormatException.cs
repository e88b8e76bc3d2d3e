namespace Flywheel.Store.Datasets;

/// <summary>A line of an imported file is not a valid example. <see cref="Line"/> is 1-based.</summary>
public sealed class DatasetFormatException(string file, int line, string problem)
    : Exception($"{file} line {line}: {problem}")
{
    public string File { get; } = file;

    public int Line { get; } = line;
}
