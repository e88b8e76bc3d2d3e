using System.Text.Json.Nodes;
using Flywheel.Server.Auth;
using Flywheel.Server.Endpoints.OpenAi;
using Flywheel.Store;
using Flywheel.Store.Feedback;
using Flywheel.Store.Traffic;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flywheel.Server.Endpoints.Loop;

/// <summary>
/// <c>POST /v1/feedback {"id", "rating": "up"|"down"|1-5, "correction"?: text or messages, "comment"?}</c>: stores
/// feedback on a captured response of the caller's tenant. 200 only once the feedback is durable; an unknown id
/// and another tenant's id both get the same 404, a malformed body 400.
/// </summary>
public static class FeedbackEndpoints
{
    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/v1/feedback", HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext http, ServerOptions options)
    {
        if (options.Store is not { } store) return LoopErrors.NoStore();
        FeedbackInput input;
        try
        {
            input = Read(await RequestFields.ReadAsync(http.Request.Body, http.RequestAborted));
        }
        catch (BadRequestException e)
        {
            return OpenAiError.BadRequest(e.Message, e.Param);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        FeedbackResult result;
        try
        {
            // Corrections and comments are user text like the captured traffic, so the same redaction applies first.
            var tenant = RequestTenant.Get(http);
            if ((await store.GetTenantSettingsAsync(tenant, CancellationToken.None)).RedactionEnabled)
            {
                input = new Redactor(options.Redaction).Redact(input);
            }
            // Not cancelled with the request: a write that has begun is finished, so the outcome is never in doubt.
            result = await store.AddFeedbackAsync(tenant, input, CancellationToken.None);
        }
        catch (StoreException e)
        {
            return LoopErrors.StoreFailed(e);
        }
        if (result.Outcome == FeedbackOutcome.UnknownRecord || result.Feedback is not { } stored)
        {
            return OpenAiError.Create(StatusCodes.Status404NotFound, $"no response with id '{input.RecordId}' was recorded for this API key", "invalid_request_error", "id", "not_found");
        }
        return Results.Json(
            new FeedbackReceipt(stored.Id, "feedback", stored.RecordId, stored.Rating, stored.Correction is not null, stored.Comment, stored.CreatedAt.ToUnixTimeSeconds()),
            Protocol.Json);
    }

    /// <summary>Validates the body; every problem is a <see cref="BadRequestException"/> naming the field.</summary>
    private static FeedbackInput Read(RequestFields fields)
    {
        var id = fields.String("id") ?? throw new BadRequestException("'id' is required: the id of the response the feedback is about", "id");
        try
        {
            TrafficIds.Validate(id);
        }
        catch (ArgumentException)
        {
            throw new BadRequestException($"'id' must be 1 to {TrafficIds.MaxLength} printable ASCII characters", "id");
        }
        int? rating = fields.Body["rating"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var text) && FeedbackRatings.TryParse(text, out var r) => r,
            JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue<int>(out var n) && FeedbackRatings.IsValid(n) => n,
            _ => throw new BadRequestException("'rating' must be \"up\", \"down\" or an integer from 1 to 5", "rating"),
        };
        var correction = fields.Body["correction"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var text) => text.Length > 0
                ? Correction.FromText(text)
                : throw new BadRequestException("'correction' must not be empty", "correction"),
            JsonArray messages => Messages(messages),
            _ => throw new BadRequestException("'correction' must be the right answer as text, or an array of chat messages", "correction"),
        };
        var comment = fields.String("comment");
        if (rating is null && correction is null && string.IsNullOrEmpty(comment))
        {
            throw new BadRequestException("feedback needs at least one of 'rating', 'correction' or 'comment'");
        }
        return new FeedbackInput(id, rating, correction, comment);
    }

    private static Correction Messages(JsonArray messages)
    {
        try
        {
            return Correction.FromMessages(messages.ToJsonString(Protocol.Json));
        }
        catch (ArgumentException e)
        {
            throw new BadRequestException($"'correction' is not a valid messages array: {e.Message}", "correction");
        }
    }
}
