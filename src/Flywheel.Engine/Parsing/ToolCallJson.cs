using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flywheel.Engine.Parsing;

/// <summary>Reads the JSON of one call, <c>{"name": ..., "arguments"|"parameters": {...}}</c>, as the templates write it.</summary>
internal static class ToolCallJson
{
    /// <summary>
    /// True when <paramref name="json"/> is one call: an object with a string <c>name</c> and arguments given as an
    /// object (or as a string holding one) under <c>arguments</c> or <c>parameters</c>; missing arguments read as {}.
    /// </summary>
    public static bool TryRead(string json, out string name, out string arguments)
    {
        name = "";
        arguments = "";
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return false;
        }
        if (node is not JsonObject call || call["name"] is not JsonValue n || !n.TryGetValue<string>(out var fn) || fn.Length == 0) return false;
        var args = call["arguments"] ?? call["parameters"];
        switch (args)
        {
            case null:
                arguments = "{}";
                break;
            case JsonObject o:
                arguments = o.ToJsonString();
                break;
            case JsonValue v when v.TryGetValue<string>(out var text):
                try
                {
                    if (JsonNode.Parse(text) is not JsonObject parsed) return false;
                    arguments = parsed.ToJsonString();
                }
                catch (JsonException)
                {
                    return false;
                }
                break;
            default:
                return false;
        }
        name = fn;
        return true;
    }
}
