using System.Diagnostics;
using Flywheel.Engine;
using Flywheel.Server.Hosting;
using Flywheel.Server.Telemetry;
using Flywheel.Tokenizers.ChatTemplates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flywheel.Server.Endpoints.OpenAi.Chat;

/// <summary><c>POST /v1/chat/completions</c>: render the messages with the model's template, generate, reply or stream.</summary>
public static class ChatEndpoints
{
    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/v1/chat/completions", HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext http, ModelRegistry models, ServingMetrics metrics)
    {
        return await RequestHandling.RunAsync(http, models, async (fields, engine, ct) =>
        {
            var parameters = GenerationParameters.Read(fields, chat: true);
            if (fields.Body["response_format"]?["type"]?.GetValue<string>() is "json_object" or "json_schema")
            {
                throw new BadRequestException("'response_format' with JSON output is not supported yet", "response_format");
            }
            var context = ChatMessages.ToContext(fields);
            string prompt;
            try
            {
                prompt = engine.Model.RenderChat(context);
            }
            catch (ChatTemplateException e)
            {
                throw new BadRequestException($"the model's chat template refused these messages: {e.Message}", "messages");
            }
            var promptIds = engine.Model.TokenizeChatPrompt(prompt);
            var request = parameters.ToRequest(promptIds, engine);
            var id = $"chatcmpl-{Guid.NewGuid():N}";
            var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (parameters.Stream)
            {
                await StreamAsync(http, engine, metrics, request, parameters, id, created, ct);
                return Results.Empty;
            }
            var result = await TokenCollector.CollectAsync(metrics.TrackAsync(engine, request, "chat", ct), engine, parameters.LogProbs);
            var choice = new ChatChoice(0, new ChatMessage("assistant", result.Text), null, GenerationParameters.FinishReasonText(result.Finish), result.LogProbs);
            return Results.Json(
                new ChatCompletion(id, "chat.completion", created, engine.Model.Name, [choice],
                    new Usage(promptIds.Count, result.CompletionTokens, promptIds.Count + result.CompletionTokens)),
                Protocol.Json);
        });
    }

    private static async Task StreamAsync(HttpContext http, InferenceEngine engine, ServingMetrics metrics, GenerationRequest request, GenerationParameters parameters, string id, long created, CancellationToken ct)
    {
        var sse = new ServerSentEvents(http.Response);
        var model = engine.Model.Name;
        var completionTokens = 0;
        var first = true;
        await foreach (var token in metrics.TrackAsync(engine, request, "chat", ct))
        {
            if (first)
            {
                // The first chunk carries the role, as OpenAI's does; clients key their message on it.
                await sse.SendAsync(Chunk(new ChatMessage("assistant", ""), null, null), ct);
                first = false;
            }
            if (token.Id >= 0 && token.Finish is not Engine.Sampling.FinishReason.StopToken) completionTokens++;
            var logprobs = parameters.LogProbs && token.Id >= 0 && token.Finish is not Engine.Sampling.FinishReason.StopToken
                ? new LogProbs([TokenCollector.Entry(engine, token)])
                : null;
            if (token.Text.Length > 0 || logprobs is not null)
            {
                await sse.SendAsync(Chunk(new ChatMessage(null, token.Text), null, logprobs), ct);
            }
            if (token.Finish is { } finish)
            {
                await sse.SendAsync(Chunk(new ChatMessage(null, null), GenerationParameters.FinishReasonText(finish), null), ct);
            }
        }
        if (parameters.IncludeUsage)
        {
            var usage = new Usage(request.PromptIds.Count, completionTokens, request.PromptIds.Count + completionTokens);
            await sse.SendAsync(new ChatCompletion(id, "chat.completion.chunk", created, model, [], usage), ct);
        }
        await sse.SendDoneAsync(ct);

        ChatCompletion Chunk(ChatMessage delta, string? finish, LogProbs? logprobs) =>
            new(id, "chat.completion.chunk", created, model, [new ChatChoice(0, null, delta, finish, logprobs)], null);
    }
}
