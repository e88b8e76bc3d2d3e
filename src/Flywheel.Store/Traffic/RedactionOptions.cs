namespace Flywheel.Store.Traffic;

/// <summary>Which kinds of personal data <see cref="Redactor"/> replaces. All on by default.</summary>
public sealed record RedactionOptions(bool Emails = true, bool PhoneNumbers = true, bool IdentityNumbers = true)
{
    public static RedactionOptions All { get; } = new();
}
