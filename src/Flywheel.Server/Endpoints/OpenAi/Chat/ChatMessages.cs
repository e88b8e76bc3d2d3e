using System.Text;
using System.Text.Json.Nodes;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Server.Endpoints.OpenAi.Chat;

/// <summary>
/// Validates a chat request's <c>messages</c> (and <c>tools</c>) and turns them into a template context.
/// Content given as an array of parts is joined to text; only text parts are accepted.
/// </summary>
public static class ChatMessages
{
    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool"];

    /// <summary>The template context of the request; the tools go in only when <paramref name="tools"/> offers them.</summary>
    public static ChatTemplateContext ToContext(RequestFields f, ChatTools tools)
    {
        if (f.Body["messages"] is not JsonArray messages || messages.Count == 0)
        {
            throw new BadRequestException("'messages' must be a non-empty array", "messages");
        }
        var normalised = new JsonArray();
        for (var i = 0; i < messages.Count; i++)
        {
            normalised.Add(Normalise(messages[i], $"messages[{i}]"));
        }
        var context = ChatTemplateContext.FromJson(normalised, tools.Offered ? f.Body["tools"] : null);
        context.AddGenerationPrompt = true;
        return context;
    }

    private static JsonObject Normalise(JsonNode? node, string where)
    {
        if (node is not JsonObject m) throw new BadRequestException($"'{where}' must be an object", where);
        var role = m["role"] is JsonValue r && r.TryGetValue<string>(out var rs) ? rs : null;
        if (role is null || !Roles.Contains(role))
        {
            throw new BadRequestException($"'{where}.role' must be one of {string.Join(", ", Roles)}", $"{where}.role");
        }
        var copy = (JsonObject)m.DeepClone();
        // "developer" is OpenAI's newer name for the system role; model templates know only "system".
        if (role == "developer") copy["role"] = "system";
        switch (m["content"])
        {
            case null:
                if (role != "assistant") throw new BadRequestException($"'{where}.content' is required", $"{where}.content");
                break;
            case JsonValue v when v.TryGetValue<string>(out _):
                break;
            case JsonArray parts:
                copy["content"] = JoinParts(parts, where);
                break;
            default:
                throw new BadRequestException($"'{where}.content' must be a string or an array of text parts", $"{where}.content");
        }
        if (m["tool_calls"] is { } calls && calls is not JsonArray)
        {
            throw new BadRequestException($"'{where}.tool_calls' must be an array", $"{where}.tool_calls");
        }
        if (copy["tool_calls"] is JsonArray toolCalls)
        {
            // Templates iterate arguments as a mapping; OpenAI sends them as a JSON string.
            foreach (var call in toolCalls)
            {
                if (call?["function"] is JsonObject fn && fn["arguments"] is JsonValue a && a.TryGetValue<string>(out var text))
                {
                    try
                    {
                        fn["arguments"] = JsonNode.Parse(text) ?? new JsonObject();
                    }
                    catch (System.Text.Json.JsonException)
                    {
                        throw new BadRequestException($"'{where}.tool_calls' has arguments that are not valid JSON", $"{where}.tool_calls");
                    }
                }
            }
        }
        return copy;
    }

    private static string JoinParts(JsonArray parts, string where)
    {
        var sb = new StringBuilder();
        foreach (var part in parts)
        {
            if (part is JsonObject p && p["type"]?.GetValue<string>() == "text" && p["text"] is JsonValue t && t.TryGetValue<string>(out var text))
            {
                sb.Append(text);
            }
            else
            {
                throw new BadRequestException($"'{where}.content' may hold only text parts ({{\"type\": \"text\", \"text\": ...}})", $"{where}.content");
            }
        }
        return sb.ToString();
    }
}
