namespace Flywheel.Store.Traffic;

/// <summary>
/// One captured request and its response. JSON members hold OpenAI-shaped JSON text so a dataset can be written
/// back in the OpenAI fine-tuning format without translation.
/// </summary>
public sealed record TrafficRecord
{
    /// <summary>The record id, also the response's <c>id</c> (see <see cref="TrafficIds.New"/>).</summary>
    public required string Id { get; init; }

    public required string Tenant { get; init; }

    public required TrafficKind Kind { get; init; }

    /// <summary>The model name the request asked for (as the server lists it in /v1/models).</summary>
    public required string Model { get; init; }

    /// <summary>The LoRA adapter that served the request, if any.</summary>
    public string? Adapter { get; init; }

    /// <summary>Chat: the request's <c>messages</c> array as JSON. Completion: the <c>prompt</c> as JSON (a string,
    /// or an array of strings).</summary>
    public required string RequestJson { get; init; }

    /// <summary>The sampling parameters and other request options as a JSON object (temperature, max_tokens, tools, ...).</summary>
    public string? ParametersJson { get; init; }

    /// <summary>The generated text (assistant content, or the completion text).</summary>
    public string? OutputText { get; init; }

    /// <summary>
    /// The model's reasoning before its answer (DeepSeek-R1's think block, returned as <c>reasoning_content</c>), when
    /// it gave any. Kept for evaluation; <c>dataset export</c> leaves it out, as OpenAI's chat fine-tuning format has no
    /// place for it.
    /// </summary>
    public string? ReasoningText { get; init; }

    /// <summary>The assistant's <c>tool_calls</c> array as JSON, when it called tools.</summary>
    public string? ToolCallsJson { get; init; }

    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    /// <summary>Wall time from request received to last token, in milliseconds.</summary>
    public double LatencyMs { get; init; }

    /// <summary>
    /// OpenAI finish reason: stop, length, tool_calls, ...; or <see cref="Abandoned"/> or <see cref="Failed"/> for a
    /// request that was never fully answered (its output is what was produced until then).
    /// </summary>
    public string? FinishReason { get; init; }

    /// <summary>Finish reason of a request whose client went away before the answer was complete.</summary>
    public const string Abandoned = "abandoned";

    /// <summary>Finish reason of a request that failed after its generation started.</summary>
    public const string Failed = "error";

    /// <summary>Whether the client received the whole answer (not <see cref="Abandoned"/> or <see cref="Failed"/>).</summary>
    public bool Answered => FinishReason is not (Abandoned or Failed);

    public required DateTimeOffset CreatedAt { get; init; }
}
