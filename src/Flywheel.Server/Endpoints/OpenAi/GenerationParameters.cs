using Flywheel.Engine;
using Flywheel.Engine.Sampling;

namespace Flywheel.Server.Endpoints.OpenAi;

/// <summary>The sampling and stopping fields shared by chat and text completions, validated.</summary>
/// <remarks><see cref="LogProbs"/>: report the chosen tokens' log-probabilities; <see cref="TopLogProbs"/> (0 to 20):
/// how many most likely alternatives to report beside each.</remarks>
public sealed record GenerationParameters(SamplingOptions Sampling, int? MaxTokens, IReadOnlyList<string> Stop, bool IgnoreEos, bool LogProbs, int TopLogProbs, bool Stream, bool IncludeUsage)
{
    public static GenerationParameters Read(RequestFields f, bool chat)
    {
        if (f.Integer("n", 1, 128) is not (null or 1)) throw new BadRequestException("only n = 1 is supported", "n");
        var maxTokens = f.Integer("max_completion_tokens", 1, int.MaxValue) ?? f.Integer("max_tokens", 1, int.MaxValue);
        bool logprobs;
        int top;
        if (chat)
        {
            // Chat: logprobs is a switch and top_logprobs the count, which OpenAI accepts only with logprobs on.
            logprobs = f.Bool("logprobs", false);
            top = (int)(f.Integer("top_logprobs", 0, Sampler.MaxTopLogProbs) ?? 0);
            if (top > 0 && !logprobs) throw new BadRequestException("'top_logprobs' requires 'logprobs' to be true", "top_logprobs");
        }
        else
        {
            // Text completions: logprobs is the count; 0 still reports the chosen tokens.
            var n = f.Integer("logprobs", 0, Sampler.MaxTopLogProbs);
            logprobs = n is not null;
            top = (int)(n ?? 0);
        }
        var sampling = new SamplingOptions
        {
            Temperature = (float)(f.Number("temperature", 0, 2) ?? 1),
            TopP = (float)(f.Number("top_p", 0, 1) ?? 1),
            TopK = (int)(f.Integer("top_k", 0, int.MaxValue) ?? 0),
            MinP = (float)(f.Number("min_p", 0, 1) ?? 0),
            PresencePenalty = (float)(f.Number("presence_penalty", -2, 2) ?? 0),
            FrequencyPenalty = (float)(f.Number("frequency_penalty", -2, 2) ?? 0),
            RepetitionPenalty = (float)(f.Number("repetition_penalty", 0.01, 10) ?? 1),
            Seed = f.Integer("seed", long.MinValue, long.MaxValue) is { } s ? unchecked((ulong)s) : null,
            TopLogProbs = top,
            // The whole-vocabulary exp pass is paid only for clients that read the numbers.
            LogProbs = logprobs,
        };
        var streamOptions = f.Body["stream_options"] as System.Text.Json.Nodes.JsonObject;
        var includeUsage = streamOptions?["include_usage"]?.GetValue<bool>() ?? false;
        return new GenerationParameters(sampling, (int?)maxTokens, f.StopStrings(), f.Bool("ignore_eos", false), logprobs, top, f.Bool("stream", false), includeUsage);
    }

    /// <summary>Builds the engine request; with no max_tokens the rest of the context is the limit.</summary>
    public GenerationRequest ToRequest(List<int> promptIds, InferenceEngine engine)
    {
        if (promptIds.Count >= engine.ContextLength)
        {
            throw new ContextLengthExceededException(promptIds.Count, engine.ContextLength);
        }
        var room = engine.ContextLength - promptIds.Count;
        var stopping = new GenerationOptions
        {
            MaxTokens = Math.Min(MaxTokens ?? room, room),
            StopStrings = Stop,
            StopTokenIds = IgnoreEos ? new HashSet<int>() : engine.Model.Tokenizer.EndOfGenerationIds,
        };
        return new GenerationRequest(promptIds, Sampling, stopping);
    }

    public static string FinishReasonText(FinishReason reason) => reason switch
    {
        FinishReason.StopToken or FinishReason.StopString or FinishReason.ConstraintComplete => "stop",
        _ => "length",
    };
}
