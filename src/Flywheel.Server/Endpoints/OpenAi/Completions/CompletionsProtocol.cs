using Flywheel.Server.Endpoints.OpenAi.Chat;

namespace Flywheel.Server.Endpoints.OpenAi.Completions;

public sealed record TextCompletion(string Id, string Object, long Created, string Model, IReadOnlyList<TextChoice> Choices, Usage? Usage);

public sealed record TextChoice(int Index, string Text, string? FinishReason, TextLogProbs? Logprobs);

/// <summary>The legacy completions log-probability shape: parallel arrays, one entry per generated token.</summary>
public sealed record TextLogProbs(IReadOnlyList<string> Tokens, IReadOnlyList<float> TokenLogprobs, IReadOnlyList<Dictionary<string, float>> TopLogprobs, IReadOnlyList<int> TextOffset)
{
    /// <summary>Converts chat-shaped entries; <paramref name="offset"/> is where the first token's text starts.</summary>
    public static TextLogProbs From(IReadOnlyList<TokenLogProbEntry> entries, int offset)
    {
        var offsets = new List<int>(entries.Count);
        foreach (var e in entries)
        {
            offsets.Add(offset);
            offset += e.Token.Length;
        }
        return new TextLogProbs(
            entries.Select(e => e.Token).ToList(),
            entries.Select(e => e.Logprob).ToList(),
            entries.Select(e =>
            {
                // Two ids may decode to the same text (pieces of one UTF-8 character): keep the likelier.
                var map = new Dictionary<string, float>();
                foreach (var t in e.TopLogprobs ?? []) map.TryAdd(t.Token, t.Logprob);
                return map;
            }).ToList(),
            offsets);
    }
}
