namespace Flywheel.Server.Endpoints.OpenAi.Chat;

public sealed record ChatCompletion(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage? Usage, string SystemFingerprint = "flywheel");

public sealed record ChatChoice(int Index, ChatMessage? Message, ChatMessage? Delta, string? FinishReason, LogProbs? Logprobs);

public sealed record ChatMessage(string? Role, string? Content);

public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

public sealed record LogProbs(IReadOnlyList<TokenLogProbEntry> Content);

/// <summary>One token's log-probability; <see cref="TopLogprobs"/> is set on chosen tokens and null on the alternatives.</summary>
public sealed record TokenLogProbEntry(string Token, float Logprob, int[]? Bytes, IReadOnlyList<TokenLogProbEntry>? TopLogprobs);
