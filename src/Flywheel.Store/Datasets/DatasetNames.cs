namespace Flywheel.Store.Datasets;

/// <summary>Dataset names are short identifiers, unique per tenant, safe in URLs and file names.</summary>
public static class DatasetNames
{
    public const int MaxLength = 128;

    public static string Validate(string? name, string parameterName = "name")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException("a dataset name is required", parameterName);
        }
        if (name.Length > MaxLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw new ArgumentException($"dataset name '{name}' must be 1 to {MaxLength} characters of letters, digits, '.', '_' or '-'", parameterName);
        }
        return name;
    }
}
