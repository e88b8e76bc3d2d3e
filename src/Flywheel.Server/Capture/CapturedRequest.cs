using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flywheel.Engine;
using Flywheel.Engine.Sampling;
using Flywheel.Server.Endpoints.OpenAi;
using Flywheel.Server.Endpoints.OpenAi.Chat;
using Flywheel.Server.Endpoints.OpenAi.Completions;
using Flywheel.Store.Traffic;
using Microsoft.AspNetCore.Http;

namespace Flywheel.Server.Capture;

/// <summary>
/// The capture of one chat or completion request: it decorates the engine's token stream (<see cref="Track"/>:
/// token counts, finish, timing) and the response as the client receives it (<see cref="Observe{T}(T)"/> for each
/// streamed event, <see cref="ReplyAsync{T}"/> for a JSON body), then writes one <see cref="TrafficRecord"/>
/// whose id is the response's <see cref="Id"/>.
/// </summary>
/// <remarks>
/// Call order: <see cref="Track"/> once, then either <see cref="Observe{T}(T)"/> per event and
/// <see cref="CommitAsync"/> before the stream's last bytes, or <see cref="ReplyAsync{T}"/> once. Not thread-safe:
/// one request's handler uses it. A request that is not fully answered (the client left, or it failed after
/// generation started) is recorded by <see cref="RecordUnansweredAsync(HttpContext, Exception)"/> with what was
/// produced until then and the finish reason <c>abandoned</c> or <c>error</c>.
/// </remarks>
public sealed class CapturedRequest
{
    private readonly TrafficCapture _owner;
    private readonly TrafficKind _kind;
    private readonly string _tenant;
    private readonly string _model;
    private readonly JsonObject _body;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly DateTimeOffset _createdAt = DateTimeOffset.UtcNow;
    private long _lastToken;
    private int _promptTokens;
    private int _completionTokens;
    private FinishReason? _finish;
    private string? _finishText;
    private Usage? _usage;
    private StringBuilder? _streamed;
    private StringBuilder? _streamedReasoning;
    private StringBuilder? _generated;
    private bool _recorded;
    private JsonArray? _streamedToolCalls;

    internal CapturedRequest(TrafficCapture owner, TrafficKind kind, string tenant, string model, JsonObject body)
    {
        _owner = owner;
        _kind = kind;
        _tenant = tenant;
        _model = model;
        _body = body;
        Id = TrafficIds.New(kind);
    }

    /// <summary>The record id, which is also the response's <c>id</c>.</summary>
    public string Id { get; }

    /// <summary>True when this request will be recorded (a store is open and capture is on).</summary>
    public bool Enabled => _owner.Enabled;

    /// <summary>Passes the engine's tokens through, counting them and noting how the generation ended.</summary>
    public IAsyncEnumerable<GeneratedToken> Track(GenerationRequest request, IAsyncEnumerable<GeneratedToken> tokens)
    {
        _promptTokens = request.PromptIds.Count;
        return Enabled ? TrackAsync(tokens) : tokens;
    }

    private async IAsyncEnumerable<GeneratedToken> TrackAsync(IAsyncEnumerable<GeneratedToken> tokens)
    {
        _generated = new StringBuilder();
        await foreach (var token in tokens.ConfigureAwait(false))
        {
            if (token.Id >= 0 && token.Finish is not FinishReason.StopToken) _completionTokens++;
            _generated.Append(token.Text);
            if (token.Finish is { } finish)
            {
                _finish = finish;
                _lastToken = Stopwatch.GetTimestamp();
            }
            yield return token;
        }
    }

    /// <summary>Notes one streamed event as sent: its text, finish reason, usage and tool-call deltas.</summary>
    public void Observe<T>(T payload)
    {
        if (!Enabled) return;
        _streamed ??= new StringBuilder();
        switch (payload)
        {
            case ChatCompletion chunk:
                foreach (var choice in chunk.Choices)
                {
                    _streamed.Append(choice.Delta?.Content);
                    if (choice.Delta?.ReasoningContent is { } reasoning) (_streamedReasoning ??= new StringBuilder()).Append(reasoning);
                    if (choice.Delta?.ToolCalls is { Count: > 0 } calls) MergeToolCalls(calls);
                    _finishText = choice.FinishReason ?? _finishText;
                }
                _usage = chunk.Usage ?? _usage;
                break;
            case TextCompletion chunk:
                foreach (var choice in chunk.Choices)
                {
                    _streamed.Append(choice.Text);
                    _finishText = choice.FinishReason ?? _finishText;
                }
                _usage = chunk.Usage ?? _usage;
                break;
        }
    }

    /// <summary>
    /// Writes the record of a streamed response and waits until it is durable. Call before the stream's final
    /// bytes. Returns null when recorded (or not captured), else the error, after which the stream must not end
    /// as if answered.
    /// </summary>
    public async Task<Exception?> CommitAsync(CancellationToken cancellationToken)
    {
        if (!Enabled) return null;
        _recorded = true;
        var text = _streamed?.ToString();
        var toolCalls = _streamedToolCalls is { Count: > 0 } calls ? calls.ToJsonString(Protocol.Json) : null;
        return await _owner.WriteAsync(Record(text, toolCalls, _finishText, _usage) with { ReasoningText = _streamedReasoning?.ToString() }, cancellationToken);
    }

    /// <summary>
    /// Records a non-streamed response, waits until the record is durable, then returns the response as JSON.
    /// When the record cannot be written the client gets 503 instead, so every answer it receives is stored.
    /// </summary>
    public async Task<IResult> ReplyAsync<T>(T response, CancellationToken cancellationToken)
    {
        if (Enabled)
        {
            _recorded = true;
            var node = JsonSerializer.SerializeToNode(response, Protocol.Json);
            var choice = node?["choices"]?[0];
            var text = _kind == TrafficKind.Chat ? Text(choice?["message"]?["content"]) : Text(choice?["text"]);
            var toolCalls = choice?["message"]?["tool_calls"] is JsonArray { Count: > 0 } calls ? calls.ToJsonString(Protocol.Json) : null;
            var usage = node?["usage"] is JsonObject u
                ? new Usage((int?)u["prompt_tokens"] ?? 0, (int?)u["completion_tokens"] ?? 0, (int?)u["total_tokens"] ?? 0)
                : null;
            var record = Record(text, toolCalls, Text(choice?["finish_reason"]), usage) with { ReasoningText = Text(choice?["message"]?["reasoning_content"]) };
            if (await _owner.WriteAsync(record, cancellationToken) is { } error)
            {
                return Failed(error);
            }
        }
        return Results.Json(response, Protocol.Json);
    }

    /// <summary>
    /// Records the request of <paramref name="http"/> when it was captured but not answered: the client went away
    /// (finish reason <c>abandoned</c>) or <paramref name="error"/> ended it after generation started (<c>error</c>).
    /// The output is what the client was sent when streaming, else the text generated so far; the token counts are
    /// those generated. Waits until the record is durable; never throws (a failure is logged).
    /// </summary>
    public static async Task RecordUnansweredAsync(HttpContext http, Exception error)
    {
        if (http.Items[typeof(CapturedRequest)] is not CapturedRequest { Enabled: true, _recorded: false } capture) return;
        capture._recorded = true;
        var abandoned = http.RequestAborted.IsCancellationRequested;
        var text = capture._streamed?.ToString() ?? capture._generated?.ToString();
        var toolCalls = capture._streamedToolCalls is { Count: > 0 } calls ? calls.ToJsonString(Protocol.Json) : null;
        var record = capture.Record(text, toolCalls, abandoned ? TrafficRecord.Abandoned : TrafficRecord.Failed, null) with { ReasoningText = capture._streamedReasoning?.ToString() };
        if (!abandoned) capture._owner.LogFailure(record.Id, error);
        await capture._owner.WriteAsync(record, CancellationToken.None);
    }

    /// <summary>The OpenAI-shaped error a client gets when its response could not be recorded.</summary>
    public static IResult Failed(Exception error) =>
        OpenAiError.Create(StatusCodes.Status503ServiceUnavailable, $"the response could not be recorded, so it is withheld: {error.Message}",
            "server_error", null, "capture_failed");

    private TrafficRecord Record(string? text, string? toolCallsJson, string? finishText, Usage? usage)
    {
        // An unanswered request's latency runs to when it ended.
        var end = _lastToken != 0 && _finish is not null ? _lastToken : Stopwatch.GetTimestamp();
        var parameters = new JsonObject();
        foreach (var (name, value) in _body)
        {
            if (name is "messages" or "prompt") continue;
            parameters[name] = value?.DeepClone();
        }
        var request = _kind == TrafficKind.Chat ? _body["messages"] : _body["prompt"];
        return new TrafficRecord
        {
            Id = Id,
            Tenant = _tenant,
            Kind = _kind,
            Model = _model,
            RequestJson = request?.ToJsonString(Protocol.Json) ?? "null",
            ParametersJson = parameters.ToJsonString(Protocol.Json),
            OutputText = text,
            ToolCallsJson = toolCallsJson,
            PromptTokens = usage?.PromptTokens ?? _promptTokens,
            CompletionTokens = usage?.CompletionTokens ?? _completionTokens,
            LatencyMs = Stopwatch.GetElapsedTime(_started, end).TotalMilliseconds,
            FinishReason = finishText ?? (_finish is { } f ? GenerationParameters.FinishReasonText(f) : null),
            CreatedAt = _createdAt,
        };
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Merges streamed tool-call deltas by index: the id, type and name come once, arguments may come in pieces.</summary>
    private void MergeToolCalls(IReadOnlyList<ToolCall> deltas)
    {
        _streamedToolCalls ??= [];
        foreach (var delta in deltas)
        {
            var index = delta.Index ?? _streamedToolCalls.Count;
            while (_streamedToolCalls.Count <= index) _streamedToolCalls.Add(new JsonObject { ["function"] = new JsonObject { ["arguments"] = "" } });
            var call = (JsonObject)_streamedToolCalls[index]!;
            if (!string.IsNullOrEmpty(delta.Id)) call["id"] = delta.Id;
            if (!string.IsNullOrEmpty(delta.Type)) call["type"] = delta.Type;
            var function = (JsonObject)call["function"]!;
            if (!string.IsNullOrEmpty(delta.Function?.Name)) function["name"] = delta.Function.Name;
            if (!string.IsNullOrEmpty(delta.Function?.Arguments)) function["arguments"] = Text(function["arguments"]) + delta.Function.Arguments;
        }
    }
}
