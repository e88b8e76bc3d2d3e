using System.Text;
using Flywheel.Models;

namespace Flywheel.Engine.Sampling;

/// <summary>
/// Prefill, then sample and decode until a stop token, a stop string, the token limit or a full context. Text comes
/// from <c>tokenText</c>, which returns the text a token adds (e.g. a tokenizer's streaming decoder, which holds back
/// incomplete UTF-8). Text that could be the start of a stop string is held back until it cannot.
/// One loop drives one session; not thread-safe.
/// </summary>
public sealed class GenerationLoop(ModelSession session, Sampler sampler, Func<int, string> tokenText)
{
    /// <summary>Streams generated tokens for <paramref name="prompt"/>, evaluated after what the session already holds.</summary>
    public IEnumerable<GeneratedToken> Stream(IReadOnlyList<int> prompt, GenerationOptions options)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt is empty", nameof(prompt));
        var history = new List<int>(prompt.Count + options.MaxTokens);
        history.AddRange(prompt);
        var text = new StringBuilder();
        var emitted = 0;
        var maxStop = options.StopStrings.Count == 0 ? 0 : options.StopStrings.Max(s => s.Length);
        if (session.Position + prompt.Count > session.ContextLength)
        {
            yield return new GeneratedToken(-1, "", 0, FinishReason.ContextFull);
            yield break;
        }
        var logits = session.Prefill(history.ToArray());
        for (var produced = 0; ; produced++)
        {
            if (produced == options.MaxTokens)
            {
                yield return Final(-1, 0, FinishReason.Length);
                yield break;
            }
            var id = sampler.Sample(logits, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
            var logProb = sampler.LastLogProb;
            if (options.StopTokenIds.Contains(id))
            {
                yield return Final(id, logProb, FinishReason.StopToken);
                yield break;
            }
            history.Add(id);
            text.Append(tokenText(id));
            if (maxStop > 0 && FindStop(text, Math.Max(0, emitted - maxStop), options.StopStrings) is var stopAt and >= 0)
            {
                var piece = text.ToString(emitted, Math.Max(0, stopAt - emitted));
                text.Length = stopAt;
                emitted = stopAt;
                yield return new GeneratedToken(id, piece, logProb, FinishReason.StopString);
                yield break;
            }
            var safe = text.Length - HeldBack(text, options.StopStrings);
            var chunk = safe > emitted ? text.ToString(emitted, safe - emitted) : "";
            emitted = Math.Max(emitted, safe);
            if (session.Position >= session.ContextLength)
            {
                yield return new GeneratedToken(id, chunk + Flush(), logProb, FinishReason.ContextFull);
                yield break;
            }
            yield return new GeneratedToken(id, chunk, logProb, null);
            logits = session.Decode(id);
        }

        string Flush()
        {
            var rest = text.ToString(emitted, text.Length - emitted);
            emitted = text.Length;
            return rest;
        }

        GeneratedToken Final(int id, float logProb, FinishReason reason) => new(id, Flush(), logProb, reason);
    }

    /// <summary>Generates to completion and returns the ids and text (stop strings and stop tokens excluded).</summary>
    public GenerationResult Run(IReadOnlyList<int> prompt, GenerationOptions options)
    {
        var ids = new List<int>();
        var text = new StringBuilder();
        var finish = FinishReason.Length;
        foreach (var token in Stream(prompt, options))
        {
            text.Append(token.Text);
            if (token.Id >= 0 && token.Finish is not FinishReason.StopToken) ids.Add(token.Id);
            if (token.Finish is { } f) finish = f;
        }
        return new GenerationResult(ids, text.ToString(), finish);
    }

    private static int FindStop(StringBuilder text, int from, IReadOnlyList<string> stops)
    {
        var s = text.ToString(from, text.Length - from);
        var best = -1;
        foreach (var stop in stops)
        {
            if (stop.Length == 0) continue;
            var i = s.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best < 0 ? -1 : from + best;
    }

    /// <summary>Length of the longest suffix of the text that is a proper prefix of a stop string.</summary>
    private static int HeldBack(StringBuilder text, IReadOnlyList<string> stops)
    {
        var held = 0;
        foreach (var stop in stops)
        {
            for (var len = Math.Min(stop.Length - 1, text.Length); len > held; len--)
            {
                var match = true;
                for (var i = 0; i < len && match; i++) match = text[text.Length - len + i] == stop[i];
                if (match)
                {
                    held = len;
                    break;
                }
            }
        }
        return held;
    }
}
