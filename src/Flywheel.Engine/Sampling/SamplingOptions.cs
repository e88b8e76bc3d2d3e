namespace Flywheel.Engine.Sampling;

/// <summary>
/// How the next token is chosen from logits. Defaults sample from the model's distribution unchanged; set
/// <see cref="Temperature"/> to 0 for greedy decoding.
/// Order of application: penalties → temperature → top-k → top-p → min-p → draw (temperature before truncation,
/// as Hugging Face transformers and vLLM do, so top-p/min-p see the distribution actually sampled).
/// </summary>
public sealed record SamplingOptions
{
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    /// <summary>0 (or less) is greedy: the highest logit after penalties, ties to the lowest id.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep the K most likely tokens; 0 disables.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches P (nucleus); 1 disables.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Drop tokens less likely than MinP × the top token's probability; 0 disables.</summary>
    public float MinP { get; init; }

    /// <summary>
    /// CTRL-style repetition penalty over the last <see cref="PenaltyWindow"/> tokens: a positive logit is divided by
    /// it, a negative one multiplied (llama.cpp's penalties sampler). 1 disables.
    /// </summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Subtracted once from the logit of every token seen in the window (OpenAI presence_penalty). 0 disables.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Subtracted per occurrence in the window (OpenAI frequency_penalty). 0 disables.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>How many recent tokens the penalties look at; -1 for the whole history.</summary>
    public int PenaltyWindow { get; init; } = 64;

    /// <summary>Seed of the random draw; the same seed, logits and history always give the same tokens. Null: random.</summary>
    public ulong? Seed { get; init; }

    /// <summary>How many most likely tokens to report with their log-probabilities (0 to 20).</summary>
    public int TopLogProbs { get; init; }

    /// <summary>
    /// Whether the sampler computes the chosen token's log-probability (<see cref="Sampler.LastLogProb"/>). It takes a
    /// pass of exponentials over the whole vocabulary per token, which a server whose client did not ask for
    /// log-probabilities skips (at 8 sequences it was most of the sampling time of a batched step). Off, LastLogProb is
    /// NaN. <see cref="TopLogProbs"/> above 0 computes them regardless.
    /// </summary>
    public bool LogProbs { get; init; } = true;

    internal bool ReportsLogProbs => LogProbs || TopLogProbs > 0;

    public bool IsGreedy => Temperature <= 0f;
}
