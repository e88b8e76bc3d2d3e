namespace Flywheel.Store.Tenants;

/// <summary>A newly created key. <see cref="Key"/> is the plaintext secret, shown once: the store keeps only its hash.</summary>
/// <param name="KeyId">The public id, also the key's prefix (<c>fw_XXXXXXXXXXXX</c>); used to list and revoke.</param>
public sealed record CreatedApiKey(string KeyId, string Tenant, string Key, DateTimeOffset CreatedAt);
