using System.Text.Json;

namespace Flywheel.Store.Datasets;

/// <summary>Checks that JSON text is an OpenAI messages array, as fine-tuning files and corrections need it.</summary>
public static class ChatMessagesJson
{
    private static readonly string[] Roles = ["system", "developer", "user", "assistant", "tool"];

    /// <summary>
    /// Throws <see cref="ArgumentException"/> (message says what is wrong) unless <paramref name="json"/> is a
    /// non-empty array of objects, each with a known string <c>role</c> and a <c>content</c> that is a string, an
    /// array of parts, or null/absent only for an assistant message with <c>tool_calls</c>.
    /// </summary>
    public static void Validate(string json, bool requireAssistant)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"not valid JSON: {e.Message}", nameof(json));
        }
        using (doc)
        {
            Validate(doc.RootElement, requireAssistant);
        }
    }

    /// <inheritdoc cref="Validate(string, bool)"/>
    public static void Validate(JsonElement messages, bool requireAssistant)
    {
        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw new ArgumentException("messages must be a non-empty JSON array");
        }
        bool sawAssistant = false;
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"messages[{index}] is not an object");
            }
            if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String || !Roles.Contains(role.GetString()))
            {
                throw new ArgumentException($"messages[{index}] needs a role of {string.Join(", ", Roles)}");
            }
            bool isAssistant = role.GetString() == "assistant";
            sawAssistant |= isAssistant;
            bool hasToolCalls = message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array;
            if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            {
                if (!(isAssistant && hasToolCalls))
                {
                    throw new ArgumentException($"messages[{index}] has no content");
                }
            }
            else if (content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            {
                throw new ArgumentException($"messages[{index}].content must be a string or an array of parts");
            }
            index++;
        }
        if (requireAssistant && !sawAssistant)
        {
            throw new ArgumentException("messages need at least one assistant message to train on");
        }
    }
}
