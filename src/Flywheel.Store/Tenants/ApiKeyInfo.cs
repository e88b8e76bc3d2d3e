namespace Flywheel.Store.Tenants;

/// <summary>A stored key without its secret.</summary>
public sealed record ApiKeyInfo(string KeyId, string Tenant, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public bool IsRevoked => RevokedAt is not null;
}
