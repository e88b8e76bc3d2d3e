namespace Flywheel.Store.Tenants;

/// <summary>Per-tenant switches. Both default to on: capturing is the point of the store, and redacting by default
/// means personal data is kept only when a tenant opts out.</summary>
public sealed record TenantSettings(bool CaptureEnabled = true, bool RedactionEnabled = true)
{
    public static TenantSettings Default { get; } = new();
}
