using System.Text.Json.Nodes;
using Flywheel.Engine.Parsing;

namespace Flywheel.Engine.Constraints;

/// <summary>
/// Builds the constraint that forces a tool call (OpenAI <c>tool_choice: "required"</c> or a named function) in the
/// model's own format, so the output parser reads it back as a call: Hermes wraps
/// <c>{"name": ..., "arguments": {...}}</c> in <c>&lt;tool_call&gt;</c> markers, Llama 3 writes
/// <c>{"name": ..., "parameters": {...}}</c> alone. The arguments follow the function's parameter schema.
/// </summary>
public static class ToolCallGrammar
{
    /// <summary>
    /// A matcher for one call of any of <paramref name="functions"/> (name and parameter schema; a null schema takes any
    /// object). <paramref name="closeThinking"/> first closes a think block the prompt opened. Throws
    /// <see cref="UnsupportedSchemaException"/> when a parameter schema leaves the supported subset.
    /// </summary>
    public static JsonMatcher ForcedCall(ToolCallFormat format, IReadOnlyList<(string Name, JsonNode? Parameters)> functions, bool closeThinking = false)
    {
        if (functions.Count == 0) throw new ArgumentException("no function to call", nameof(functions));
        var argumentsKey = format == ToolCallFormat.Llama3 ? "parameters" : "arguments";
        var alternatives = new JsonArray();
        foreach (var (name, parameters) in functions)
        {
            alternatives.Add(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["name"] = new JsonObject { ["const"] = name },
                    [argumentsKey] = parameters?.DeepClone() ?? new JsonObject { ["type"] = "object" },
                },
                ["required"] = new JsonArray("name", argumentsKey),
                ["additionalProperties"] = false,
            });
        }
        var schema = Compile(alternatives.Count == 1 ? alternatives[0]! : new JsonObject { ["anyOf"] = alternatives }, functions);
        var (prefix, suffix) = format == ToolCallFormat.Hermes
            ? (HermesToolCallParser.Open + "\n", "\n" + HermesToolCallParser.Close)
            : ("", "");
        if (closeThinking) prefix = ReasoningParser.Close + "\n\n" + prefix;
        return new JsonMatcher(schema, prefix, suffix);
    }

    private static JsonSchema Compile(JsonNode schema, IReadOnlyList<(string Name, JsonNode? Parameters)> functions)
    {
        // $refs inside a tool's parameters point at that schema's own root: keep each tool's $defs reachable by
        // compiling against a root that holds them (tools rarely use $ref; two tools defining the same name clash).
        var defs = new JsonObject();
        foreach (var (_, parameters) in functions)
        {
            foreach (var key in new[] { "$defs", "definitions" })
            {
                if (parameters?[key] is JsonObject d)
                {
                    foreach (var (name, def) in d) defs[name] = def?.DeepClone();
                }
            }
        }
        if (defs.Count > 0 && schema is JsonObject o)
        {
            o["$defs"] = defs;
            o["definitions"] = defs.DeepClone();
        }
        return JsonSchema.Compile(schema);
    }
}
