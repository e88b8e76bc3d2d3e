namespace Flywheel.Engine.Constraints;

/// <summary>
/// A JSON schema uses a keyword outside the subset <see cref="JsonSchema"/> enforces, or can never be satisfied.
/// <see cref="Keyword"/> names the keyword and <see cref="SchemaPath"/> where it is (a JSON pointer into the schema).
/// </summary>
public sealed class UnsupportedSchemaException(string keyword, string schemaPath, string reason)
    : Exception($"the JSON schema keyword '{keyword}' at '{(schemaPath.Length == 0 ? "#" : schemaPath)}' {reason}")
{
    public string Keyword { get; } = keyword;
    public string SchemaPath { get; } = schemaPath;
}
