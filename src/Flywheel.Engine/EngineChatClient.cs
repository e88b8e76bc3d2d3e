using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Flywheel.Engine.Sampling;
using Flywheel.Tokenizers.ChatTemplates;
using Microsoft.Extensions.AI;

namespace Flywheel.Engine;

/// <summary>
/// <see cref="IChatClient"/> over an <see cref="InferenceEngine"/>, for in-process use: messages are rendered with the
/// model's chat template, generated, and returned or streamed. Thread-safe (the engine queues concurrent calls).
/// Does not own the engine.
/// </summary>
public sealed class EngineChatClient(InferenceEngine engine) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new("flywheel", null, engine.Model.Name);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = BuildRequest(messages, options);
        var result = await engine.GenerateToEndAsync(request, cancellationToken).ConfigureAwait(false);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, result.Text))
        {
            ModelId = engine.Model.Name,
            FinishReason = ToFinishReason(result.Finish),
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
        var request = BuildRequest(messages, options);
        var id = Guid.NewGuid().ToString("N");
        await foreach (var token in engine.GenerateAsync(request, cancellationToken).ConfigureAwait(false))
        {
            if (token.Text.Length == 0 && token.Finish is null) continue;
            yield return new ChatResponseUpdate(ChatRole.Assistant, token.Text)
            {
                ResponseId = id,
                ModelId = engine.Model.Name,
                FinishReason = token.Finish is { } f ? ToFinishReason(f) : null,
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

    /// <summary>Renders and tokenizes the conversation and maps the options onto sampling and stopping settings.</summary>
    public GenerationRequest BuildRequest(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var array = new JsonArray();
        foreach (var m in messages)
        {
            array.Add(new JsonObject { ["role"] = m.Role.Value, ["content"] = m.Text });
        }
        var context = ChatTemplateContext.FromJson(array);
        context.AddGenerationPrompt = true;
        var promptIds = engine.Model.TokenizeChatPrompt(engine.Model.RenderChat(context));
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
        return new GenerationRequest(promptIds, sampling, stopping);
    }

    private static ChatFinishReason ToFinishReason(FinishReason reason) =>
        reason is FinishReason.StopToken or FinishReason.StopString ? ChatFinishReason.Stop : ChatFinishReason.Length;
}
