using System.Text.Json.Nodes;

namespace Flywheel.Server.Endpoints.OpenAi.Chat;

/// <summary>How the request lets the model use its tools (OpenAI <c>tool_choice</c>).</summary>
public enum ToolChoiceMode
{
    /// <summary>No tools: none were offered, or <c>"none"</c>. The template gets no tools and nothing is parsed.</summary>
    None,
    /// <summary>The model may answer or call tools.</summary>
    Auto,
    /// <summary>The model must call one of the tools.</summary>
    Required,
    /// <summary>The model must call the tool named in <see cref="ChatTools.Forced"/>.</summary>
    Named,
}

/// <summary>A request's validated <c>tools</c> and <c>tool_choice</c>.</summary>
public sealed record ChatTools(ToolChoiceMode Mode, IReadOnlyList<JsonObject> Functions, string? Forced)
{
    /// <summary>Reads and checks <c>tools</c> (function tools with a name and an optional parameters object) and <c>tool_choice</c>.</summary>
    public static ChatTools Read(RequestFields f)
    {
        var functions = new List<JsonObject>();
        switch (f.Body["tools"])
        {
            case null:
                break;
            case JsonArray tools:
                for (var i = 0; i < tools.Count; i++)
                {
                    var where = $"tools[{i}]";
                    if (tools[i] is not JsonObject tool || tool["type"]?.GetValueKind() != System.Text.Json.JsonValueKind.String || tool["type"]!.GetValue<string>() != "function")
                    {
                        throw new BadRequestException($"'{where}' must be an object with \"type\": \"function\"", where);
                    }
                    if (tool["function"] is not JsonObject fn || fn["name"] is not JsonValue n || !n.TryGetValue<string>(out var name) || name.Length == 0)
                    {
                        throw new BadRequestException($"'{where}.function' must be an object with a non-empty 'name'", $"{where}.function");
                    }
                    if (fn["parameters"] is { } p && p is not JsonObject)
                    {
                        throw new BadRequestException($"'{where}.function.parameters' must be a JSON schema object", $"{where}.function.parameters");
                    }
                    if (functions.Any(x => x["name"]!.GetValue<string>() == name))
                    {
                        throw new BadRequestException($"'{where}': two tools are named '{name}'", where);
                    }
                    functions.Add(fn);
                }
                break;
            default:
                throw RequestFields.Invalid("tools", "an array");
        }

        var (mode, forced) = f.Body["tool_choice"] switch
        {
            null => (functions.Count > 0 ? ToolChoiceMode.Auto : ToolChoiceMode.None, (string?)null),
            JsonValue v when v.TryGetValue<string>(out var s) => s switch
            {
                "none" => (ToolChoiceMode.None, null),
                "auto" => (functions.Count > 0 ? ToolChoiceMode.Auto : ToolChoiceMode.None, null),
                "required" => (ToolChoiceMode.Required, null),
                _ => throw new BadRequestException("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice"),
            },
            JsonObject o when o["function"]?["name"] is JsonValue nv && nv.TryGetValue<string>(out var name) => (ToolChoiceMode.Named, name),
            _ => throw new BadRequestException("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice"),
        };
        if (mode is ToolChoiceMode.Required or ToolChoiceMode.Named && functions.Count == 0)
        {
            throw new BadRequestException("'tool_choice' asks for a tool call but 'tools' is empty", "tool_choice");
        }
        if (forced is not null && !functions.Any(x => x["name"]!.GetValue<string>() == forced))
        {
            throw new BadRequestException($"'tool_choice' names the function '{forced}', which is not among 'tools'", "tool_choice");
        }
        return new ChatTools(mode, functions, forced);
    }

    /// <summary>True when the template gets the tools and the answer is parsed for calls.</summary>
    public bool Offered => Mode != ToolChoiceMode.None;
}
