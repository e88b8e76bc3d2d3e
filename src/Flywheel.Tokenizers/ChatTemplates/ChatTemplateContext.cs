using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// The variables a chat template renders with, named as transformers' apply_chat_template names them:
/// <c>messages</c>, <c>tools</c> (None when absent), <c>documents</c> (None when absent), <c>add_generation_prompt</c>,
/// <c>bos_token</c>/<c>eos_token</c> (undefined when null) and any extra <see cref="Variables"/>
/// (e.g. <c>enable_thinking</c>), which win over the others. Not thread-safe while being edited.
/// </summary>
public sealed class ChatTemplateContext
{
    public List<ChatTemplateMessage> Messages { get; } = [];

    /// <summary>Tool definitions (JSON schema objects), or null for none.</summary>
    public JsonArray? Tools { get; set; }

    /// <summary>Retrieval documents for RAG templates, or null for none.</summary>
    public JsonArray? Documents { get; set; }

    public bool AddGenerationPrompt { get; set; }

    public string? BosToken { get; set; }

    public string? EosToken { get; set; }

    /// <summary>Extra variables: strings, bools, numbers, JsonNode values, lists and dictionaries of those.</summary>
    public Dictionary<string, object?> Variables { get; } = new(StringComparer.Ordinal);

    /// <summary>The clock behind strftime_now; local time when null. Tests pin it.</summary>
    public Func<DateTimeOffset>? Clock { get; set; }

    /// <summary>
    /// Builds a context from a JSON messages array, or from an object with "messages" and optionally
    /// "tools", "documents", "add_generation_prompt", "bos_token", "eos_token" and other keys (taken as variables).
    /// </summary>
    public static ChatTemplateContext FromJson(JsonNode messages, JsonNode? tools = null)
    {
        var context = new ChatTemplateContext();
        if (messages is JsonObject request)
        {
            foreach (var (key, value) in request)
            {
                switch (key)
                {
                    case "messages":
                        AddMessages(context, value);
                        break;
                    case "tools":
                        context.Tools = value is null ? null : (JsonArray)value.DeepClone();
                        break;
                    case "documents":
                        context.Documents = value is null ? null : (JsonArray)value.DeepClone();
                        break;
                    case "add_generation_prompt":
                        context.AddGenerationPrompt = value?.GetValue<bool>() ?? false;
                        break;
                    case "bos_token":
                        context.BosToken = value?.GetValue<string>();
                        break;
                    case "eos_token":
                        context.EosToken = value?.GetValue<string>();
                        break;
                    default:
                        context.Variables[key] = value?.DeepClone();
                        break;
                }
            }
        }
        else
        {
            AddMessages(context, messages);
        }

        if (tools is not null)
        {
            context.Tools = tools as JsonArray is { } array ? (JsonArray)array.DeepClone() : throw new ArgumentException("tools must be a JSON array");
        }

        return context;
    }

    /// <summary>Parses <paramref name="messagesJson"/> (and optional tools JSON) with <see cref="FromJson(JsonNode, JsonNode?)"/>.</summary>
    public static ChatTemplateContext FromJson(string messagesJson, string? toolsJson = null) =>
        FromJson(
            JsonNode.Parse(messagesJson) ?? throw new ArgumentException("messages JSON is null"),
            toolsJson is null ? null : JsonNode.Parse(toolsJson));

    /// <summary>Same as <see cref="FromJson(JsonNode, JsonNode?)"/> for System.Text.Json elements.</summary>
    public static ChatTemplateContext FromJson(JsonElement messages, JsonElement? tools = null) =>
        FromJson(
            JsonSerializer.SerializeToNode(messages) ?? throw new ArgumentException("messages JSON is null"),
            tools is { } t ? JsonSerializer.SerializeToNode(t) : null);

    private static void AddMessages(ChatTemplateContext context, JsonNode? messages)
    {
        if (messages is not JsonArray array)
        {
            throw new ArgumentException("messages must be a JSON array of objects");
        }

        foreach (var item in array)
        {
            context.Messages.Add(ChatTemplateMessage.FromJson(item as JsonObject ?? throw new ArgumentException("each message must be a JSON object")));
        }
    }

    internal Scope CreateScope()
    {
        var scope = new Scope(null);
        scope.Set("messages", Messages.Select(m => PyValues.FromJson(m.Json)).ToList());
        scope.Set("tools", PyValues.FromJson(Tools));
        scope.Set("documents", PyValues.FromJson(Documents));
        scope.Set("add_generation_prompt", AddGenerationPrompt);
        if (BosToken is not null)
        {
            scope.Set("bos_token", BosToken);
        }

        if (EosToken is not null)
        {
            scope.Set("eos_token", EosToken);
        }

        foreach (var (key, value) in Variables)
        {
            scope.Set(key, PyValues.FromClr(value));
        }

        return scope;
    }
}
