using System.Text.Json.Nodes;
using Flywheel.Engine.Constraints;
using Flywheel.Engine.Parsing;

namespace Flywheel.Server.Endpoints.OpenAi.Chat;

/// <summary>Chooses the decoding constraint of a chat request: a forced tool call, a JSON response format, or none.</summary>
public static class ChatConstraints
{
    /// <summary>
    /// The matcher the answer must follow, or null for free text. When the prompt opened a think block, the forced
    /// output first closes it, so the JSON (or call) lands in content rather than reasoning.
    /// </summary>
    public static JsonMatcher? Create(ChatTools tools, JsonSchema? jsonFormat, ToolCallFormat toolFormat, bool promptOpensThinking)
    {
        if (tools.Mode is ToolChoiceMode.Required or ToolChoiceMode.Named)
        {
            var functions = tools.Functions
                .Where(f => tools.Forced is null || f["name"]!.GetValue<string>() == tools.Forced)
                .Select(f => (f["name"]!.GetValue<string>(), f["parameters"]))
                .ToList();
            try
            {
                return ToolCallGrammar.ForcedCall(toolFormat, functions, promptOpensThinking);
            }
            catch (UnsupportedSchemaException e)
            {
                throw new BadRequestException($"a tool's 'parameters' cannot be enforced for tool_choice \"{(tools.Forced ?? "required")}\": {e.Message}", "tools");
            }
        }
        if (jsonFormat is null) return null;
        return new JsonMatcher(jsonFormat, promptOpensThinking ? ReasoningParser.Close + "\n\n" : "");
    }
}
