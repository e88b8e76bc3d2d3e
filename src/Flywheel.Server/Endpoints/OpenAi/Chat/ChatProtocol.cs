namespace Flywheel.Server.Endpoints.OpenAi.Chat;

public sealed record ChatCompletion(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage? Usage, string SystemFingerprint = "flywheel");

public sealed record ChatChoice(int Index, ChatMessage? Message, ChatMessage? Delta, string? FinishReason, LogProbs? Logprobs);

/// <summary>A message or a streaming delta; <see cref="ReasoningContent"/> is the think block (DeepSeek's field name).</summary>
public sealed record ChatMessage(string? Role, string? Content, string? ReasoningContent = null, IReadOnlyList<ToolCall>? ToolCalls = null);

/// <summary>A tool call; <see cref="Index"/> is set in streaming deltas only, as OpenAI does.</summary>
public sealed record ToolCall(int? Index, string Id, string Type, FunctionCall Function);

/// <summary>The called function and its arguments, a JSON object as text.</summary>
public sealed record FunctionCall(string Name, string Arguments);

public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

public sealed record LogProbs(IReadOnlyList<TokenLogProbEntry> Content);

/// <summary>One token's log-probability; <see cref="TopLogprobs"/> is set on chosen tokens and null on the alternatives.</summary>
public sealed record TokenLogProbEntry(string Token, float Logprob, int[]? Bytes, IReadOnlyList<TokenLogProbEntry>? TopLogprobs);
