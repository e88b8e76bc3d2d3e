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

    public static TokenLogProbEntry Entry(InferenceEngine engine, GeneratedToken token)
    {
        var bytes = engine.Model.Tokenizer.TokenBytes(token.Id);
        return new TokenLogProbEntry(Encoding.UTF8.GetString(bytes), token.LogProb, Array.ConvertAll(bytes, b => (int)b), []);
    }
}
