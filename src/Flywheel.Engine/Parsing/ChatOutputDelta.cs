namespace Flywheel.Engine.Parsing;

/// <summary>What a piece of parsed chat output is.</summary>
public enum ChatOutputKind
{
    /// <summary>Text of the answer (<c>content</c>).</summary>
    Content,
    /// <summary>Text inside the model's think block (<c>reasoning_content</c>).</summary>
    Reasoning,
    /// <summary>A complete tool call (<see cref="ChatOutputDelta.ToolCall"/>).</summary>
    ToolCall,
}

/// <summary>One piece of parsed chat output: text for content or reasoning, or a whole tool call.</summary>
public readonly record struct ChatOutputDelta(ChatOutputKind Kind, string Text, ParsedToolCall? ToolCall = null)
{
    public static ChatOutputDelta Content(string text) => new(ChatOutputKind.Content, text);
    public static ChatOutputDelta Reasoning(string text) => new(ChatOutputKind.Reasoning, text);
    public static ChatOutputDelta Call(ParsedToolCall call) => new(ChatOutputKind.ToolCall, "", call);
}
