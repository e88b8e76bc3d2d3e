namespace Flywheel.Engine.Parsing;

/// <summary>
/// A tool call read from model output: its position among the calls of the message, an id for the client to answer
/// with, the function's name and its arguments as a compact JSON object text (OpenAI sends arguments as a string).
/// </summary>
public sealed record ParsedToolCall(int Index, string Id, string Name, string Arguments)
{
    /// <summary>A fresh OpenAI-style call id (<c>call_</c> and 24 random letters and digits).</summary>
    public static string NewId()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        return "call_" + string.Create(24, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = alphabet[Random.Shared.Next(alphabet.Length)];
        });
    }
}
