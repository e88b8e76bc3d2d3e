using Flywheel.Engine.Parsing;

namespace Flywheel.Server.Endpoints.OpenAi.Chat;

/// <summary>Turns parsed chat output (<see cref="ChatOutputDelta"/>) into OpenAI messages and streaming deltas.</summary>
public static class ChatOutput
{
    /// <summary>The assistant message of a whole answer; content is null when the answer is only tool calls.</summary>
    public static ChatMessage Message(IEnumerable<ChatOutputDelta> deltas)
    {
        var content = new System.Text.StringBuilder();
        var reasoning = new System.Text.StringBuilder();
        var calls = new List<ToolCall>();
        foreach (var d in deltas)
        {
            switch (d.Kind)
            {
                case ChatOutputKind.Content: content.Append(d.Text); break;
                case ChatOutputKind.Reasoning: reasoning.Append(d.Text); break;
                case ChatOutputKind.ToolCall: calls.Add(Call(d.ToolCall!, streaming: false)); break;
            }
        }
        return new ChatMessage("assistant", calls.Count > 0 && content.Length == 0 ? null : content.ToString(),
            reasoning.Length > 0 ? reasoning.ToString() : null, calls.Count > 0 ? calls : null);
    }

    /// <summary>The streaming delta of one piece: content, reasoning_content, or one whole tool call with its index.</summary>
    public static ChatMessage Delta(ChatOutputDelta d) => d.Kind switch
    {
        ChatOutputKind.Content => new ChatMessage(null, d.Text),
        ChatOutputKind.Reasoning => new ChatMessage(null, null, d.Text),
        _ => new ChatMessage(null, null, null, [Call(d.ToolCall!, streaming: true)]),
    };

    /// <summary>OpenAI's finish reason: "tool_calls" when the answer ended by itself after calling tools.</summary>
    public static string FinishReason(Engine.Sampling.FinishReason finish, int toolCalls) =>
        toolCalls > 0 && finish is not (Engine.Sampling.FinishReason.Length or Engine.Sampling.FinishReason.ContextFull)
            ? "tool_calls"
            : GenerationParameters.FinishReasonText(finish);

    private static ToolCall Call(ParsedToolCall call, bool streaming) =>
        new(streaming ? call.Index : null, call.Id, "function", new FunctionCall(call.Name, call.Arguments));
}
