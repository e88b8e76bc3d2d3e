namespace Flywheel.Models;

/// <summary>
/// Perplexity the way llama.cpp's llama-perplexity computes it, so figures are comparable: the tokens are cut into
/// whole chunks of the context length (a partial tail is dropped); each chunk is evaluated from an empty cache with
/// its first token replaced by BOS when the model adds BOS; only the second half of each chunk is scored (every
/// token there has at least ctx/2 tokens of context). Result = exp(mean negative log-likelihood).
/// </summary>
public static class Perplexity
{
    public sealed record Result(double Value, int Chunks, int ScoredTokens, double MeanNll);

    /// <param name="tokens">The whole text, tokenized with BOS as the model's metadata says.</param>
    /// <param name="contextLength">Chunk length (llama-perplexity's -c).</param>
    /// <param name="maxChunks">Evaluate at most this many chunks (null: all).</param>
    public static Result Compute(Model model, IReadOnlyList<int> tokens, int contextLength, int? maxChunks = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 2);
        var chunks = tokens.Count / contextLength;
        if (maxChunks is { } m) chunks = Math.Min(chunks, m);
        if (chunks == 0) throw new ArgumentException($"{tokens.Count} tokens do not fill one chunk of {contextLength}");
        var vocab = model.Config.VocabSize;
        var session = model.CreateSession(new SessionOptions { ContextLength = contextLength, BatchSize = contextLength });
        var first = contextLength / 2;
        var logits = new float[(contextLength - first) * vocab]; // [n_ctx − first, n_vocab]: only scored rows
        var chunk = new int[contextLength];
        double nll = 0;
        var scored = 0;
        for (var c = 0; c < chunks; c++)
        {
            for (var i = 0; i < contextLength; i++) chunk[i] = tokens[c * contextLength + i];
            if (model.Config.AddBos && model.Config.BosTokenId is { } bos) chunk[0] = bos;
            session.Reset();
            session.Evaluate(chunk, logits, firstLogitRow: first);
            for (var i = first; i < contextLength - 1; i++)
            {
                nll -= LogSoftmaxAt(logits.AsSpan((i - first) * vocab, vocab), chunk[i + 1]);
                scored++;
            }
        }
        var mean = nll / scored;
        return new Result(Math.Exp(mean), chunks, scored, mean);
    }

    private static double LogSoftmaxAt(ReadOnlySpan<float> logits, int target)
    {
        var max = float.NegativeInfinity;
        foreach (var v in logits) max = MathF.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return logits[target] - max - Math.Log(sum);
    }
}
