using System.Text;
using Flywheel.Engine;
using Flywheel.Engine.Sampling;
using Flywheel.Models;
using Flywheel.Tokenizers;

namespace Flywheel.Cli;

/// <summary>
/// One sequence's generation for run and chat: owns a session, remembers which tokens its KV cache holds so that a
/// chat turn re-evaluates only what changed after the common prefix, and streams text through a UTF-8 decoder.
/// Not thread-safe; <see cref="Stop"/> may be called from another thread (Ctrl-C).
/// </summary>
internal sealed class Generation(LoadedModel model, int? contextLength)
{
    private readonly ModelSession _session = model.Model.CreateSession(new SessionOptions { ContextLength = contextLength });
    private readonly List<int> _cached = []; // tokens whose keys and values the session holds, in order
    private volatile bool _stop;

    public int ContextLength => _session.ContextLength;

    public void Stop() => _stop = true;

    /// <summary>Throws a usage error (exit 2) when <paramref name="prompt"/> leaves no room to generate.</summary>
    public void CheckFits(IReadOnlyList<int> prompt)
    {
        if (prompt.Count >= ContextLength) throw new CliUsageException(new ContextLengthExceededException(prompt.Count, ContextLength).Message);
    }

    /// <summary>
    /// Generates after <paramref name="prompt"/> (the whole sequence, not a suffix), writing text pieces to
    /// <paramref name="onText"/> as they come; returns the generated ids (stop token excluded) and text.
    /// </summary>
    public GenerationResult Run(IReadOnlyList<int> prompt, SamplingOptions sampling, int maxTokens, Action<int, string> onText)
    {
        CheckFits(prompt);
        _stop = false;
        // Reuse the cached prefix, but always evaluate at least the last prompt token to get fresh logits.
        var keep = 0;
        while (keep < _cached.Count && keep < prompt.Count - 1 && _cached[keep] == prompt[keep]) keep++;
        _session.Truncate(keep);
        _cached.RemoveRange(keep, _cached.Count - keep);
        var suffix = prompt.Skip(keep).ToList();
        _cached.AddRange(suffix);

        var sampler = new Sampler(model.Model.Config.VocabSize, sampling);
        var decoder = new StreamingDecoder(model.Tokenizer);
        var loop = new GenerationLoop(_session, sampler, decoder.Append);
        var options = new GenerationOptions { MaxTokens = maxTokens, StopTokenIds = model.Tokenizer.EndOfGenerationIds };
        var ids = new List<int>();
        var text = new StringBuilder();
        var finish = FinishReason.Length;
        foreach (var token in loop.Stream(suffix, options))
        {
            if (token.Id >= 0 && token.Finish is not FinishReason.StopToken) ids.Add(token.Id);
            text.Append(token.Text);
            if (token.Text.Length > 0) onText(token.Id, token.Text);
            if (token.Finish is { } f)
            {
                finish = f;
                break;
            }
            if (_stop) break;
        }
        var rest = decoder.Flush();
        if (rest.Length > 0)
        {
            text.Append(rest);
            onText(-1, rest);
        }
        // The session holds the prompt and every generated token but possibly the last (sampled, not yet decoded).
        _cached.AddRange(ids);
        if (_cached.Count > _session.Position) _cached.RemoveRange(_session.Position, _cached.Count - _session.Position);
        return new GenerationResult(ids, text.ToString(), finish);
    }

    /// <summary>Standard output as UTF-8 bytes whatever the console's encoding, flushed per write (streaming).</summary>
    public static TextWriter OpenStdout() =>
        new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true };
}
