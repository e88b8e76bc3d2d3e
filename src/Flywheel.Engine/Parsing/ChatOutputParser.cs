namespace Flywheel.Engine.Parsing;

/// <summary>
/// Splits a chat answer, streamed piece by piece, into reasoning, content and tool calls: first the think block
/// (<see cref="ReasoningParser"/>), then the model's tool-call format in what follows (<see cref="IToolCallParser"/>,
/// only when the request offered tools). Streaming and non-streaming responses both go through it, so they agree.
/// Not thread-safe; one per generation. Call order: any number of <see cref="Push"/>, then <see cref="Finish"/> once.
/// </summary>
public sealed class ChatOutputParser
{
    private readonly ReasoningParser _reasoning;
    private readonly IToolCallParser? _tools;
    private readonly List<ChatOutputDelta> _stage = [];

    /// <param name="promptOpensThinking">The rendered prompt ends inside a think block (<see cref="ReasoningParser.PromptOpensThinking"/>).</param>
    /// <param name="toolFormat">The tool-call format to read, or null when the request offered no tools.</param>
    public ChatOutputParser(bool promptOpensThinking, ToolCallFormat? toolFormat)
    {
        _reasoning = new ReasoningParser(promptOpensThinking);
        _tools = toolFormat is { } f ? ToolCallFormats.CreateParser(f) : null;
    }

    /// <summary>Tool calls emitted so far.</summary>
    public int ToolCallCount => _tools?.CallCount ?? 0;

    /// <summary>Adds generated text and returns the pieces it completes (often none or one).</summary>
    public List<ChatOutputDelta> Push(string text)
    {
        var output = new List<ChatOutputDelta>();
        if (text.Length == 0) return output;
        _stage.Clear();
        _reasoning.Push(text, _stage);
        Route(output);
        return output;
    }

    /// <summary>The generation ended: returns whatever was held back.</summary>
    public List<ChatOutputDelta> Finish()
    {
        var output = new List<ChatOutputDelta>();
        _stage.Clear();
        _reasoning.Finish(_stage);
        Route(output);
        _tools?.Finish(output);
        return output;
    }

    private void Route(List<ChatOutputDelta> output)
    {
        foreach (var piece in _stage)
        {
            if (piece.Kind == ChatOutputKind.Content && _tools is not null) _tools.Push(piece.Text, output);
            else output.Add(piece);
        }
    }
}
