namespace Flywheel.Store.Tenants;

/// <summary>Tenant names are short identifiers so they are safe in file names, URLs and logs.</summary>
public static class TenantNames
{
    public const int MaxLength = 64;

    /// <summary>Throws <see cref="ArgumentException"/> unless the name is 1..64 characters of A-Z a-z 0-9 . _ -.</summary>
    public static string Validate(string? tenant, string parameterName = "tenant")
    {
        if (string.IsNullOrEmpty(tenant))
        {
            throw new ArgumentException("a tenant name is required", parameterName);
        }
        if (tenant.Length > MaxLength || !tenant.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw new ArgumentException($"tenant name '{tenant}' must be 1 to {MaxLength} characters of letters, digits, '.', '_' or '-'", parameterName);
        }
        return tenant;
    }
}
