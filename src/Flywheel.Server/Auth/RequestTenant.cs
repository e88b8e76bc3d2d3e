using Microsoft.AspNetCore.Http;

namespace Flywheel.Server.Auth;

/// <summary>
/// The tenant a request acts for, set by <see cref="ApiKeyAuthentication"/>: the tenant of the store key it
/// presented, or <see cref="Default"/> when the server takes static keys (<c>--api-key</c>) or no keys at all.
/// Every record a request writes or reads belongs to this tenant.
/// </summary>
public static class RequestTenant
{
    /// <summary>The tenant of requests that present no store key.</summary>
    public const string Default = "default";

    private static readonly object Key = new();

    public static string Get(HttpContext context) => context.Items.TryGetValue(Key, out var tenant) && tenant is string t ? t : Default;

    internal static void Set(HttpContext context, string tenant) => context.Items[Key] = tenant;
}
