using Microsoft.AspNetCore.Http;

namespace Flywheel.Server.Endpoints.OpenAi;

/// <summary>
/// Errors in the OpenAI shape, <c>{"error": {"message", "type", "param", "code"}}</c>, with the matching status,
/// so OpenAI client libraries raise their usual exceptions.
/// </summary>
public static class OpenAiError
{
    public static IResult BadRequest(string message, string? param = null, string? code = null) =>
        Create(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    public static IResult Unauthorized(string message) =>
        Create(StatusCodes.Status401Unauthorized, message, "invalid_request_error", null, "invalid_api_key");

    public static IResult ModelNotFound(string model) =>
        Create(StatusCodes.Status404NotFound, $"the model '{model}' does not exist; GET /v1/models lists the served models", "invalid_request_error", "model", "model_not_found");

    public static IResult NotFound(string message) =>
        Create(StatusCodes.Status404NotFound, message, "invalid_request_error", null, "not_found");

    public static IResult Busy(string message) =>
        Create(StatusCodes.Status429TooManyRequests, message, "rate_limit_exceeded", null, "queue_full");

    public static IResult Loading(string model) =>
        Create(StatusCodes.Status503ServiceUnavailable, $"the model '{model}' is still loading; retry shortly", "server_error", null, "model_loading");

    public static IResult Unavailable(string message) =>
        Create(StatusCodes.Status503ServiceUnavailable, message, "server_error", null, "unavailable");

    public static IResult Create(int status, string message, string type, string? param, string? code) =>
        Results.Json(new ErrorEnvelope(new ErrorBody(message, type, param, code)), Protocol.Json, statusCode: status);

    public sealed record ErrorEnvelope(ErrorBody Error);

    /// <summary>All four keys are always present, null or not, as OpenAI sends them.</summary>
    public sealed record ErrorBody(
        string Message,
        string Type,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Param,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Code);
}
