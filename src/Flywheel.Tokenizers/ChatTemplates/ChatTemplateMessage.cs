using System.Text.Json.Nodes;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// One chat message as the template sees it: a JSON object whose keys are exactly the ones set, in
/// order (templates test for keys, e.g. <c>'tool_calls' in message</c>). The typed properties read and
/// write that object; setting an optional property to null removes its key, while <see cref="Content"/>
/// stays present as null. Not thread-safe.
/// </summary>
public sealed class ChatTemplateMessage
{
    public ChatTemplateMessage(string role, string? content)
    {
        Json = new JsonObject { ["role"] = role, ["content"] = content };
    }

    private ChatTemplateMessage(JsonObject json)
    {
        Json = json;
    }

    /// <summary>The underlying object; edits are visible to the template.</summary>
    public JsonObject Json { get; }

    public string Role
    {
        get => Json["role"]?.GetValue<string>() ?? "";
        set => Json["role"] = value;
    }

    /// <summary>A string, null, or an array of content parts such as {"type": "text", "text": ...}.</summary>
    public JsonNode? Content
    {
        get => Json["content"];
        set => Json["content"] = value;
    }

    /// <summary>OpenAI-style tool calls: [{"type": "function", "function": {"name", "arguments"}}].</summary>
    public JsonArray? ToolCalls
    {
        get => Json["tool_calls"] as JsonArray;
        set => SetOptional("tool_calls", value);
    }

    public string? ToolCallId
    {
        get => Json["tool_call_id"]?.GetValue<string>();
        set => SetOptional("tool_call_id", value);
    }

    public string? Name
    {
        get => Json["name"]?.GetValue<string>();
        set => SetOptional("name", value);
    }

    public string? ReasoningContent
    {
        get => Json["reasoning_content"]?.GetValue<string>();
        set => SetOptional("reasoning_content", value);
    }

    /// <summary>Wraps a copy of a JSON message object, keeping all of its keys.</summary>
    public static ChatTemplateMessage FromJson(JsonObject message) => new((JsonObject)message.DeepClone());

    private void SetOptional(string key, JsonNode? value)
    {
        if (value is null)
        {
            Json.Remove(key);
        }
        else
        {
            Json[key] = value;
        }
    }
}
