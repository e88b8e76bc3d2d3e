namespace Flywheel.Engine;

/// <summary>A prompt does not fit the context; the message says by how much (HTTP 400, CLI exit 2).</summary>
public sealed class ContextLengthExceededException : Exception
{
    /// <param name="generating">True for a generation prompt, which must leave one position free to generate;
    /// false for an input that is only evaluated (embeddings), which may fill the context.</param>
    public ContextLengthExceededException(int promptTokens, int contextLength, bool generating = true)
        : base(generating
            ? $"this model's maximum context length is {contextLength} tokens, but the prompt is {promptTokens} tokens " +
              $"({promptTokens - contextLength + 1} too many; at least one position must stay free to generate)"
            : $"this model's maximum context length is {contextLength} tokens, but the input is {promptTokens} tokens " +
              $"({promptTokens - contextLength} too many)")
    {
        PromptTokens = promptTokens;
        ContextLength = contextLength;
    }

    public int PromptTokens { get; }
    public int ContextLength { get; }
}
