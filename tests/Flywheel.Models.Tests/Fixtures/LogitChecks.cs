namespace Flywheel.Models.Tests.Fixtures;

internal static class LogitChecks
{
    /// <summary>Index of the largest value (first on ties, like llama.cpp's greedy sampler).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best]) best = i;
        }
        return best;
    }

    /// <summary>Difference between the largest and second largest logit.</summary>
    public static float TopTwoGap(ReadOnlySpan<float> logits)
    {
        float first = float.NegativeInfinity, second = float.NegativeInfinity;
        foreach (var v in logits)
        {
            if (v > first) { second = first; first = v; }
            else if (v > second) second = v;
        }
        return first - second;
    }

    public static int[] TopK(ReadOnlySpan<float> logits, int k)
    {
        var copy = logits.ToArray();
        return Enumerable.Range(0, copy.Length).OrderByDescending(i => copy[i]).ThenBy(i => i).Take(k).ToArray();
    }
}
