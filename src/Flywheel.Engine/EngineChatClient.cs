using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flywheel.Engine.Constraints;
using Flywheel.Engine.Parsing;
using Flywheel.Engine.Sampling;
using Flywheel.Tokenizers.ChatTemplates;
using Microsoft.Extensions.AI;

namespace Flywheel.Engine;

/// <summary>
/// <see cref="IChatClient"/> over an <see cref="InferenceEngine"/>, for in-process use: messages are rendered with the
/// model's chat template, generated, and returned or streamed. It takes the HTTP server's path: tools
/// (<see cref="ChatOptions.Tools"/>) go to the template and calls in the model's format come back as
/// <see cref="FunctionCallContent"/>; <see cref="ChatOptions.ToolMode"/> required (any or named) forces a call and
/// <see cref="ChatOptions.ResponseFormat"/> JSON (with or without a schema) forces a JSON document, both by
/// constrained decoding that closes within <see cref="ChatOptions.MaxOutputTokens"/>; a think block becomes
/// <see cref="TextReasoningContent"/>. Thread-safe (the engine queues concurrent calls). Does not own the engine.
/// </summary>
public sealed class EngineChatClient(InferenceEngine engine) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new("flywheel", null, engine.Model.Name);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (request, parser) = Prepare(messages, options);
        var result = await engine.GenerateToEndAsync(request, cancellationToken).ConfigureAwait(false);
        var deltas = parser.Push(result.Text);
        deltas.AddRange(parser.Finish());
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, Contents(deltas)))
        {
            ModelId = engine.Model.Name,
            FinishReason = ToFinishReason(result.Finish, parser.ToolCallCount),
            Usage = new UsageDetails
            {
                InputTokenCount = request.PromptIds.Count,
                OutputTokenCount = result.TokenIds.Count,
                TotalTokenCount = request.PromptIds.Count + result.TokenIds.Count,
            },
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (request, parser) = Prepare(messages, options);
        var id = Guid.NewGuid().ToString("N");
        await foreach (var token in engine.GenerateAsync(request, cancellationToken).ConfigureAwait(false))
        {
            var deltas = parser.Push(token.Text);
            if (token.Finish is not null) deltas.AddRange(parser.Finish());
            if (deltas.Count == 0 && token.Finish is null) continue;
            yield return new ChatResponseUpdate(ChatRole.Assistant, Contents(deltas))
            {
                ResponseId = id,
                ModelId = engine.Model.Name,
                FinishReason = token.Finish is { } f ? ToFinishReason(f, parser.ToolCallCount) : null,
            };
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : serviceType.IsInstanceOfType(engine) ? engine
        : null;

    public void Dispose()
    {
    }

    /// <summary>
    /// Renders and tokenizes the conversation (with the offered tools) and maps the options onto sampling and stopping
    /// settings and the decoding constraint. Throws <see cref="ArgumentException"/> for options that cannot be honoured
    /// (a JSON format with a forced tool call, a schema outside the enforced subset, a limit below the shortest valid
    /// output) and <see cref="ContextLengthExceededException"/> for a prompt that does not fit.
    /// </summary>
    public GenerationRequest BuildRequest(IEnumerable<ChatMessage> messages, ChatOptions? options) => Prepare(messages, options).Request;

    private (GenerationRequest Request, ChatOutputParser Parser) Prepare(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var functions = (options?.Tools ?? []).OfType<AIFunctionDeclaration>().ToList();
        var mode = functions.Count == 0 || options?.ToolMode is NoneChatToolMode ? null : options?.ToolMode ?? ChatToolMode.Auto;
        if (options?.ToolMode is RequiredChatToolMode && functions.Count == 0)
        {
            throw new ArgumentException("ToolMode requires a tool call but no AIFunction is among Tools", nameof(options));
        }
        var context = ChatTemplateContext.FromJson(Messages(messages), mode is null ? null : Tools(functions));
        context.AddGenerationPrompt = true;
        var prompt = engine.Model.RenderChat(context);
        var promptIds = engine.Model.TokenizeChatPrompt(prompt);
        if (promptIds.Count >= engine.ContextLength)
        {
            throw new ContextLengthExceededException(promptIds.Count, engine.ContextLength);
        }
        var room = engine.ContextLength - promptIds.Count;
        var sampling = new SamplingOptions
        {
            Temperature = options?.Temperature ?? 1f,
            TopP = options?.TopP ?? 1f,
            TopK = options?.TopK ?? 0,
            PresencePenalty = options?.PresencePenalty ?? 0f,
            FrequencyPenalty = options?.FrequencyPenalty ?? 0f,
            Seed = options?.Seed is { } seed ? unchecked((ulong)seed) : null,
        };
        var stopping = new GenerationOptions
        {
            MaxTokens = Math.Min(options?.MaxOutputTokens ?? room, room),
            StopStrings = options?.StopSequences?.ToList() ?? [],
            StopTokenIds = engine.Model.Tokenizer.EndOfGenerationIds,
        };
        var request = new GenerationRequest(promptIds, sampling, stopping);

        var opensThinking = ReasoningParser.PromptOpensThinking(prompt);
        var toolFormat = ToolCallFormats.Detect(engine.Model.Template.Source);
        var format = Format(options?.ResponseFormat);
        List<(string Name, JsonNode? Parameters)>? forced = null;
        if (mode is RequiredChatToolMode required)
        {
            if (format is not null) throw new ArgumentException("a JSON ResponseFormat and a required tool call cannot both shape the answer", nameof(options));
            if (required.RequiredFunctionName is { } name && functions.All(f => f.Name != name))
            {
                throw new ArgumentException($"ToolMode requires the function '{name}', which is not among Tools", nameof(options));
            }
            forced = functions
                .Where(f => required.RequiredFunctionName is null || f.Name == required.RequiredFunctionName)
                .Select(f => (f.Name, Parameters(f)))
                .ToList();
        }
        try
        {
            if (ChatOutputConstraint.Matcher(format, forced, toolFormat, opensThinking) is { } matcher)
            {
                request = request with { Constraint = ChatOutputConstraint.Limit(matcher, engine.Model, request) };
            }
        }
        catch (Exception e) when (e is UnsupportedSchemaException or TokenBudgetTooSmallException)
        {
            throw new ArgumentException(e.Message, nameof(options), e);
        }
        return (request, new ChatOutputParser(opensThinking, mode is null ? null : toolFormat));
    }

    /// <summary>The conversation in OpenAI's message shape, which the template context reads.</summary>
    private static JsonArray Messages(IEnumerable<ChatMessage> messages)
    {
        var array = new JsonArray();
        foreach (var m in messages)
        {
            var calls = new JsonArray();
            foreach (var call in m.Contents.OfType<FunctionCallContent>())
            {
                calls.Add(new JsonObject
                {
                    ["id"] = call.CallId,
                    ["type"] = "function",
                    // Templates iterate arguments as a mapping.
                    ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = JsonSerializer.SerializeToNode(call.Arguments ?? new Dictionary<string, object?>()) },
                });
            }
            var text = string.Concat(m.Contents.OfType<TextContent>().Select(t => t.Text));
            var results = m.Contents.OfType<FunctionResultContent>().ToList();
            if (results.Count == 0 || calls.Count > 0 || text.Length > 0)
            {
                var message = new JsonObject { ["role"] = m.Role == ChatRole.Tool ? "tool" : m.Role.Value, ["content"] = calls.Count > 0 && text.Length == 0 ? null : text };
                if (calls.Count > 0) message["tool_calls"] = calls;
                array.Add(message);
            }
            // Each function result is a tool message of its own, answering its call.
            foreach (var result in results)
            {
                array.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = result.CallId, ["content"] = ResultText(result.Result) });
            }
        }
        return array;
    }

    private static string ResultText(object? result) => result switch
    {
        null => "",
        string s => s,
        JsonElement e when e.ValueKind == JsonValueKind.String => e.GetString()!,
        _ => JsonSerializer.Serialize(result),
    };

    /// <summary>OpenAI's <c>tools</c> array for the template.</summary>
    private static JsonArray Tools(List<AIFunctionDeclaration> functions)
    {
        var tools = new JsonArray();
        foreach (var f in functions)
        {
            var function = new JsonObject { ["name"] = f.Name };
            if (!string.IsNullOrEmpty(f.Description)) function["description"] = f.Description;
            function["parameters"] = Parameters(f) ?? new JsonObject { ["type"] = "object" };
            tools.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }
        return tools;
    }

    private static JsonNode? Parameters(AIFunctionDeclaration f) =>
        f.JsonSchema.ValueKind == JsonValueKind.Object ? JsonNode.Parse(f.JsonSchema.GetRawText()) : null;

    private static JsonSchema? Format(ChatResponseFormat? format) => format switch
    {
        null or ChatResponseFormatText => null,
        ChatResponseFormatJson { Schema: { } schema } => Compile(schema),
        ChatResponseFormatJson => JsonSchema.AnyObject,
        _ => throw new ArgumentException($"ResponseFormat {format.GetType().Name} is not supported", "options"),
    };

    private static JsonSchema Compile(JsonElement schema)
    {
        try
        {
            return JsonSchema.Compile(JsonNode.Parse(schema.GetRawText()));
        }
        catch (UnsupportedSchemaException e)
        {
            throw new ArgumentException($"ResponseFormat schema: {e.Message}", "options", e);
        }
    }

    private static List<AIContent> Contents(List<ChatOutputDelta> deltas)
    {
        var contents = new List<AIContent>();
        foreach (var d in deltas)
        {
            switch (d.Kind)
            {
                case ChatOutputKind.Content when d.Text.Length > 0:
                    contents.Add(new TextContent(d.Text));
                    break;
                case ChatOutputKind.Reasoning when d.Text.Length > 0:
                    contents.Add(new TextReasoningContent(d.Text));
                    break;
                case ChatOutputKind.ToolCall:
                    var call = d.ToolCall!;
                    var arguments = JsonSerializer.Deserialize<Dictionary<string, object?>>(call.Arguments);
                    contents.Add(new FunctionCallContent(call.Id, call.Name, arguments));
                    break;
            }
        }
        return contents;
    }

    private static ChatFinishReason ToFinishReason(FinishReason reason, int toolCalls) => reason switch
    {
        FinishReason.Length or FinishReason.ContextFull => ChatFinishReason.Length,
        _ when toolCalls > 0 => ChatFinishReason.ToolCalls,
        _ => ChatFinishReason.Stop,
    };
}
