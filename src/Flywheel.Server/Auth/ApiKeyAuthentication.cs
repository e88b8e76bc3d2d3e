using System.Security.Cryptography;
using System.Text;
using Flywheel.Server.Endpoints.OpenAi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Flywheel.Server.Auth;

/// <summary>
/// Requires <c>Authorization: Bearer KEY</c> with one of the configured keys on every /v1 route (health and
/// metrics stay open for probes). Keys are compared as SHA-256 digests in constant time.
/// </summary>
public static class ApiKeyAuthentication
{
    public static void Use(WebApplication app, IReadOnlySet<string> keys)
    {
        if (keys.Count == 0) return;
        var digests = keys.Select(Digest).ToList();
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/v1"))
            {
                await next(context);
                return;
            }
            var header = context.Request.Headers.Authorization.ToString();
            var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
            var digest = Digest(presented);
            if (presented.Length > 0 && digests.Any(d => CryptographicOperations.FixedTimeEquals(d, digest)))
            {
                await next(context);
                return;
            }
            var message = presented.Length == 0
                ? "no API key: send it as 'Authorization: Bearer KEY'"
                : "the API key is not valid";
            await OpenAiError.Unauthorized(message).ExecuteAsync(context);
        });
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
