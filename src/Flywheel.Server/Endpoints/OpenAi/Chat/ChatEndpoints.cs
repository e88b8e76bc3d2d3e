using System.Diagnostics;
using Flywheel.Engine;
using Flywheel.Engine.Constraints;
using Flywheel.Engine.Parsing;
using Flywheel.Server.Capture;
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

    private static async Task<IResult> HandleAsync(HttpContext http, ModelRegistry models, ServingMetrics metrics, TrafficCapture captures)
    {
        return await RequestHandling.RunAsync(http, models, async (fields, engine, ct) =>
        {
            var parameters = GenerationParameters.Read(fields, chat: true);
            var jsonFormat = ResponseFormat.Read(fields);
            var tools = ChatTools.Read(fields);
            if (jsonFormat is not null && tools.Mode is ToolChoiceMode.Required or ToolChoiceMode.Named)
            {
                throw new BadRequestException("'response_format' JSON and a forced tool call cannot both shape the answer", "response_format");
            }
            var context = ChatMessages.ToContext(fields, tools);
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
            var opensThinking = ReasoningParser.PromptOpensThinking(prompt);
            var toolFormat = ToolCallFormats.Detect(engine.Model.Template.Source);
            var request = parameters.ToRequest(promptIds, engine);
            if (ChatConstraints.Create(tools, jsonFormat, toolFormat, opensThinking) is { } matcher)
            {
                request = request with { Constraint = ChatConstraints.Limit(matcher, engine, request, parameters.MaxTokens == request.Stopping.MaxTokens,
                    tools.Mode is ToolChoiceMode.Required or ToolChoiceMode.Named ? "tools" : "response_format") };
            }
            var capture = captures.Begin(http, Store.Traffic.TrafficKind.Chat, fields, engine.Model.Name);
            var id = capture.Id;
            var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            // Reasoning and tool calls are read out of the text the same way whether it streams or not.
            var parser = new ChatOutputParser(opensThinking, tools.Offered ? toolFormat : null);
            if (parameters.Stream)
            {
                await StreamAsync(http, engine, metrics, capture, request, parameters, parser, id, created, ct);
                return Results.Empty;
            }
            var result = await TokenCollector.CollectAsync(capture.Track(request, metrics.TrackAsync(engine, request, "chat", ct)), engine, parameters.LogProbs);
            var deltas = parser.Push(result.Text);
            deltas.AddRange(parser.Finish());
            var choice = new ChatChoice(0, ChatOutput.Message(deltas), null, ChatOutput.FinishReason(result.Finish, parser.ToolCallCount), result.LogProbs);
            return await capture.ReplyAsync(
                new ChatCompletion(id, "chat.completion", created, engine.Model.Name, [choice],
                    new Usage(promptIds.Count, result.CompletionTokens, promptIds.Count + result.CompletionTokens)),
                ct);
        });
    }

    private static async Task StreamAsync(HttpContext http, InferenceEngine engine, ServingMetrics metrics, CapturedRequest capture, GenerationRequest request, GenerationParameters parameters, ChatOutputParser parser, string id, long created, CancellationToken ct)
    {
        var sse = new ServerSentEvents(http.Response, capture);
        var model = engine.Model.Name;
        var completionTokens = 0;
        var first = true;
        await foreach (var token in capture.Track(request, metrics.TrackAsync(engine, request, "chat", ct)))
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
            var deltas = parser.Push(token.Text);
            if (token.Finish is not null) deltas.AddRange(parser.Finish());
            foreach (var delta in deltas)
            {
                // A token's log-probabilities ride on its first piece of output.
                await sse.SendAsync(Chunk(ChatOutput.Delta(delta), null, logprobs), ct);
                logprobs = null;
            }
            if (logprobs is not null)
            {
                // The token's text is held back for now (a possible marker): its log-probabilities still go out in order.
                await sse.SendAsync(Chunk(new ChatMessage(null, ""), null, logprobs), ct);
            }
            if (token.Finish is { } finish)
            {
                await sse.SendAsync(Chunk(new ChatMessage(null, null), ChatOutput.FinishReason(finish, parser.ToolCallCount), null), ct);
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
