using Flywheel.Engine;
using Flywheel.Server.Capture;
using Flywheel.Server.Endpoints.OpenAi.Chat;
using Flywheel.Server.Hosting;
using Flywheel.Server.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flywheel.Server.Endpoints.OpenAi.Completions;

/// <summary><c>POST /v1/completions</c>: continue a raw prompt (no chat template; BOS as the model's metadata says).</summary>
public static class CompletionsEndpoints
{
    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/v1/completions", HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext http, ModelRegistry models, ServingMetrics metrics, TrafficCapture captures)
    {
        return await RequestHandling.RunAsync(http, models, async (fields, engine, ct) =>
        {
            var parameters = GenerationParameters.Read(fields, chat: false);
            var prompt = fields.Body["prompt"] switch
            {
                System.Text.Json.Nodes.JsonValue v when v.TryGetValue<string>(out var s) => s,
                System.Text.Json.Nodes.JsonArray { Count: 1 } a when a[0] is System.Text.Json.Nodes.JsonValue v1 && v1.TryGetValue<string>(out var s1) => s1,
                null => throw new BadRequestException("'prompt' is required", "prompt"),
                _ => throw new BadRequestException("'prompt' must be a string (batches of prompts are not supported)", "prompt"),
            };
            var promptIds = engine.Model.TokenizeRaw(prompt);
            if (promptIds.Count == 0) throw new BadRequestException("'prompt' is empty", "prompt");
            var request = parameters.ToRequest(promptIds, engine);
            var capture = captures.Begin(http, Store.Traffic.TrafficKind.Completion, fields, engine.Model.Name);
            var id = capture.Id;
            var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var model = engine.Model.Name;
            if (parameters.Stream)
            {
                var sse = new ServerSentEvents(http.Response, capture);
                var count = 0;
                var offset = prompt.Length;
                await foreach (var token in capture.Track(request, metrics.TrackAsync(engine, request, "completions", ct)))
                {
                    var counted = token.Id >= 0 && token.Finish is not Engine.Sampling.FinishReason.StopToken;
                    if (counted) count++;
                    var finish = token.Finish is { } f ? GenerationParameters.FinishReasonText(f) : null;
                    var tokenLogProbs = parameters.LogProbs && counted ? TextLogProbs.From([TokenCollector.Entry(engine, token)], offset) : null;
                    if (tokenLogProbs is not null) offset += tokenLogProbs.Tokens[0].Length;
                    if (token.Text.Length > 0 || finish is not null || tokenLogProbs is not null)
                    {
                        await sse.SendAsync(new TextCompletion(id, "text_completion", created, model, [new TextChoice(0, token.Text, finish, tokenLogProbs)], null), ct);
                    }
                }
                if (parameters.IncludeUsage)
                {
                    await sse.SendAsync(new TextCompletion(id, "text_completion", created, model, [], new Usage(promptIds.Count, count, promptIds.Count + count)), ct);
                }
                await sse.SendDoneAsync(ct);
                return Results.Empty;
            }
            var result = await TokenCollector.CollectAsync(capture.Track(request, metrics.TrackAsync(engine, request, "completions", ct)), engine, parameters.LogProbs);
            var logprobs = result.LogProbs is { } lp ? TextLogProbs.From(lp.Content, prompt.Length) : null;
            return await capture.ReplyAsync(
                new TextCompletion(id, "text_completion", created, model,
                    [new TextChoice(0, result.Text, GenerationParameters.FinishReasonText(result.Finish), logprobs)],
                    new Usage(promptIds.Count, result.CompletionTokens, promptIds.Count + result.CompletionTokens)),
                ct);
        });
    }
}
