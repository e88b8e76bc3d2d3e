namespace Flywheel.Engine;

/// <summary>A prompt does not fit the context; the message says by how much (HTTP 400, CLI exit 2).</summary>
public sealed class ContextLengthExceededException(int promptTokens, int contextLength)
    : Exception($"this model's maximum context length is {contextLength} tokens, but the prompt is {promptTokens} tokens " +
                $"({promptTokens - contextLength + 1} too many; at least one position must stay free to generate)")
{
    public int PromptTokens { get; } = promptTokens;
    public int ContextLength { get; } = contextLength;
}
