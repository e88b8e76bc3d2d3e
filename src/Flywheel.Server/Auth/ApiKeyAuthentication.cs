using System.Security.Cryptography;
using System.Text;
using Flywheel.Server.Endpoints.OpenAi;
using Flywheel.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Flywheel.Server.Auth;

/// <summary>
/// Checks <c>Authorization: Bearer KEY</c> on every /v1 route (health and metrics stay open for probes) and sets
/// the request's tenant (<see cref="RequestTenant"/>):
/// <list type="bullet">
/// <item>When the store holds keys, only those are accepted, and the key's tenant is the request's tenant.</item>
/// <item>Otherwise, when static keys are configured (<c>--api-key</c>, <c>--api-keys</c>), one of them is required
/// and the tenant is <see cref="RequestTenant.Default"/>. They are compared as SHA-256 digests in constant time.</item>
/// <item>Otherwise every request is let in as <see cref="RequestTenant.Default"/>.</item>
/// </list>
/// A refused request gets 401 in the OpenAI error shape.
/// </summary>
public static class ApiKeyAuthentication
{
    public static void Use(WebApplication app, IReadOnlySet<string> keys, StoreKeys? storeKeys)
    {
        if (keys.Count == 0 && storeKeys is null) return;
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
            var ct = context.RequestAborted;
            bool storeHasKeys;
            string? tenant;
            try
            {
                storeHasKeys = storeKeys is not null && await storeKeys.HasKeysAsync(ct);
                tenant = storeHasKeys && presented.Length > 0 ? await storeKeys!.ResolveAsync(presented, ct) : null;
            }
            catch (StoreException e)
            {
                await OpenAiError.Unavailable($"cannot check the API key: the store is unavailable: {e.Message}").ExecuteAsync(context);
                return;
            }
            if (storeHasKeys)
            {
                if (tenant is not null)
                {
                    RequestTenant.Set(context, tenant);
                    await next(context);
                    return;
                }
            }
            else if (digests.Count == 0)
            {
                await next(context);
                return;
            }
            else
            {
                var digest = Digest(presented);
                if (presented.Length > 0 && digests.Any(d => CryptographicOperations.FixedTimeEquals(d, digest)))
                {
                    await next(context);
                    return;
                }
            }
            var message = presented.Length == 0
                ? "no API key: send it as 'Authorization: Bearer KEY'"
                : "the API key is not valid";
            await OpenAiError.Unauthorized(message).ExecuteAsync(context);
        });
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
