using System.CommandLine;
using Flywheel.Engine.Sampling;

namespace Flywheel.Cli;

/// <summary>The sampling and context options run and chat share, with their ranges checked up front.</summary>
internal sealed class GenerationArguments
{
    public Option<int> MaxTokens { get; } = new("--max-tokens", "-n") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 256 };
    public Option<float> Temperature { get; } = new("--temperature", "--temp") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => 0.8f };
    public Option<ulong?> Seed { get; } = new("--seed", "-s") { Description = "Random seed (default: random)." };
    public Option<int> TopK { get; } = new("--top-k") { Description = "Keep the K most likely tokens; 0 disables.", DefaultValueFactory = _ => 40 };
    public Option<float> TopP { get; } = new("--top-p") { Description = "Nucleus sampling threshold in (0, 1]; 1 disables.", DefaultValueFactory = _ => 0.95f };
    public Option<float> MinP { get; } = new("--min-p") { Description = "Drop tokens below P × the top probability, in [0, 1]; 0 disables.", DefaultValueFactory = _ => 0.05f };
    public Option<float> RepeatPenalty { get; } = new("--repeat-penalty") { Description = "Repetition penalty over the last 64 tokens; 1 disables.", DefaultValueFactory = _ => 1f };
    public Option<int?> Context { get; } = new("--ctx", "-c") { Description = "Context length in tokens (default: the model's, at most 4096)." };
    public Option<int?> Threads { get; } = new("--threads", "-t") { Description = "CPU threads to compute on (default: the physical cores)." };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { MaxTokens, Temperature, Seed, TopK, TopP, MinP, RepeatPenalty, Context, Threads }) command.Options.Add(o);
    }

    public SamplingOptions Sampling(ParseResult parse)
    {
        var temperature = parse.GetValue(Temperature);
        var topK = parse.GetValue(TopK);
        var topP = parse.GetValue(TopP);
        var minP = parse.GetValue(MinP);
        var penalty = parse.GetValue(RepeatPenalty);
        if (!(temperature >= 0) || float.IsInfinity(temperature)) throw new CliUsageException($"--temperature must be 0 (greedy) or more, got {temperature}");
        if (topK < 0) throw new CliUsageException($"--top-k must be 0 (off) or more, got {topK}");
        if (!(topP > 0 && topP <= 1)) throw new CliUsageException($"--top-p must be in (0, 1], got {topP}");
        if (!(minP >= 0 && minP <= 1)) throw new CliUsageException($"--min-p must be in [0, 1], got {minP}");
        if (!(penalty > 0) || float.IsInfinity(penalty)) throw new CliUsageException($"--repeat-penalty must be more than 0, got {penalty}");
        return new SamplingOptions
        {
            Temperature = temperature,
            TopK = topK,
            TopP = topP,
            MinP = minP,
            RepetitionPenalty = penalty,
            Seed = parse.GetValue(Seed),
        };
    }

    public int MaxTokensValue(ParseResult parse)
    {
        var n = parse.GetValue(MaxTokens);
        return n >= 0 ? n : throw new CliUsageException($"--max-tokens must be 0 or more, got {n}");
    }

    public int? ContextValue(ParseResult parse) => parse.GetValue(Context) switch
    {
        null => null,
        var c and >= 2 and <= 1 << 20 => c,
        var c => throw new CliUsageException($"--ctx must be between 2 and {1 << 20}, got {c}"),
    };
}
