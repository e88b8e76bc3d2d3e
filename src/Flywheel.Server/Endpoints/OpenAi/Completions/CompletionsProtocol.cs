using Flywheel.Server.Endpoints.OpenAi.Chat;

namespace Flywheel.Server.Endpoints.OpenAi.Completions;

public sealed record TextCompletion(string Id, string Object, long Created, string Model, IReadOnlyList<TextChoice> Choices, Usage? Usage);

public sealed record TextChoice(int Index, string Text, string? FinishReason, TextLogProbs? Logprobs);

public sealed record TextLogProbs(IReadOnlyList<string> Tokens, IReadOnlyList<float> TokenLogprobs);
