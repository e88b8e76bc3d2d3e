namespace Flywheel.Server.Endpoints.OpenAi;

/// <summary>A request field is missing or invalid; becomes HTTP 400 naming the field.</summary>
public sealed class BadRequestException(string message, string? param = null) : Exception(message)
{
    public string? Param { get; } = param;
}
