using System.Text;
using Flywheel.Engine;
using Flywheel.Engine.Sampling;
using Flywheel.Server.Endpoints.OpenAi.Chat;

namespace Flywheel.Server.Endpoints.OpenAi;

/// <summary>Runs a non-streaming generation and gathers its text, token count and optional log-probabilities.</summary>
public static class TokenCollector
{
    public sealed record Collected(string Text, int CompletionTokens, FinishReason Finish, LogProbs? LogProbs);

    public static async Task<Collected> CollectAsync(IAsyncEnumerable<GeneratedToken> tokens, InferenceEngine engine, bool logprobs)
    {
        var text = new StringBuilder();
        var entries = logprobs ? new List<TokenLogProbEntry>() : null;
        var count = 0;
        var finish = FinishReason.Length;
        await foreach (var token in tokens)
        {
            text.Append(token.Text);
            if (token.Id >= 0 && token.Finish is not FinishReason.StopToken)
            {
                count++;
                entries?.Add(Entry(engine, token));
            }
            if (token.Finish is { } f) finish = f;
        }
        return new Collected(text.ToString(), count, finish, entries is null ? null : new LogProbs(entries));
    }

    /// <summary>The OpenAI entry of a chosen token, with its top alternatives when they were asked for.</summary>
    public static TokenLogProbEntry Entry(InferenceEngine engine, GeneratedToken token)
    {
        var top = token.TopLogProbs is { } alternatives
            ? Array.ConvertAll(alternatives, a => Alternative(engine, a.Id, a.LogProb))
            : [];
        return Alternative(engine, token.Id, token.LogProb) with { TopLogprobs = top };
    }

    private static TokenLogProbEntry Alternative(InferenceEngine engine, int id, float logProb)
    {
        var bytes = engine.Model.Tokenizer.TokenBytes(id);
        return new TokenLogProbEntry(Encoding.UTF8.GetString(bytes), logProb, Array.ConvertAll(bytes, b => (int)b), null);
    }
}
