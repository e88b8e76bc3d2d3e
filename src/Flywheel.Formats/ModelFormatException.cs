namespace Flywheel.Formats;

/// <summary>
/// A model file (GGUF, safetensors, a Hugging Face folder) is malformed or unsupported.
/// The message always names the file and, where one applies, the byte offset of the fault, so a user
/// can tell a truncated download from a wrong file.
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string filePath, long? offset, string problem, Exception? inner = null)
        : base(Describe(filePath, offset, problem), inner)
    {
        FilePath = filePath;
        Offset = offset;
        Problem = problem;
    }

    public string FilePath { get; }

    /// <summary>Byte offset in <see cref="FilePath"/> where the fault was found, when it has one.</summary>
    public long? Offset { get; }

    public string Problem { get; }

    private static string Describe(string filePath, long? offset, string problem) =>
        offset is { } at ? $"{filePath}: at byte {at}: {problem}" : $"{filePath}: {problem}";
}
