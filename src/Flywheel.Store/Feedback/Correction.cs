namespace Flywheel.Store.Feedback;

/// <summary>
/// The right answer, given in feedback: either plain text (replaces the assistant's content) or a JSON array of
/// OpenAI messages. A messages array made only of assistant/tool messages replaces the answer (so a correction can
/// carry tool calls); one that contains a system or user message replaces the whole conversation.
/// </summary>
public sealed record Correction
{
    private Correction(string? text, string? messagesJson)
    {
        Text = text;
        MessagesJson = messagesJson;
    }

    public string? Text { get; }

    public string? MessagesJson { get; }

    public static Correction FromText(string text) =>
        new(text ?? throw new ArgumentNullException(nameof(text)), null);

    /// <summary>A correction given as messages; throws <see cref="ArgumentException"/> unless the JSON is a non-empty
    /// array of objects that each have a known role.</summary>
    public static Correction FromMessages(string messagesJson)
    {
        Datasets.ChatMessagesJson.Validate(messagesJson, requireAssistant: false);
        return new(null, messagesJson);
    }

    internal static Correction? FromColumns(string? text, string? messagesJson) =>
        text is not null ? new(text, null) : messagesJson is not null ? new(null, messagesJson) : null;
}
