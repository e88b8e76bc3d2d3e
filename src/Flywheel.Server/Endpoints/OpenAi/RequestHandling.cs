using Flywheel.Engine;
using Flywheel.Engine.Scheduling;
using Flywheel.Server.Capture;
using Flywheel.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace Flywheel.Server.Endpoints.OpenAi;

/// <summary>
/// The shared frame of the generation endpoints: read and validate the body, find the model, run the handler,
/// and map every failure to its OpenAI error and status. Bad input never becomes a 500.
/// </summary>
public static class RequestHandling
{
    public delegate Task<IResult> Handler(RequestFields fields, InferenceEngine engine, CancellationToken cancellationToken);

    public static async Task<IResult> RunAsync(HttpContext http, ModelRegistry models, Handler handler, string contextParam = "messages")
    {
        var ct = http.RequestAborted;
        try
        {
            var fields = await RequestFields.ReadAsync(http.Request.Body, ct);
            var name = fields.String("model");
            switch (models.Find(string.IsNullOrEmpty(name) ? null : name, out var engine))
            {
                case ModelLookup.Unknown:
                    return OpenAiError.ModelNotFound(name!);
                case ModelLookup.Loading:
                    return OpenAiError.Loading(name ?? models.DefaultName);
                case ModelLookup.Failed:
                    return OpenAiError.Unavailable($"the model '{name ?? models.DefaultName}' failed to load: {models.LoadError?.Message}");
            }
            return await handler(fields, engine!, ct);
        }
        catch (BadRequestException e)
        {
            return OpenAiError.BadRequest(e.Message, e.Param);
        }
        catch (ContextLengthExceededException e)
        {
            return OpenAiError.BadRequest(e.Message, contextParam, "context_length_exceeded");
        }
        catch (QueueFullException e)
        {
            return OpenAiError.Busy(e.Message);
        }
        catch (OperationCanceledException e) when (ct.IsCancellationRequested)
        {
            // The client went away; its sequence has left the batch and its KV cache is free. What it was given so
            // far is still recorded, as abandoned.
            await CapturedRequest.RecordUnansweredAsync(http, e);
            return Results.Empty;
        }
        catch (Exception e)
        {
            // Failed after capture began (a hang-up seen as a broken write counts as abandoned): record it, then let
            // the host end the response as it does for any server error.
            await CapturedRequest.RecordUnansweredAsync(http, e);
            throw;
        }
    }
}
