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

    /// <summary>
    /// The token constraint of <paramref name="matcher"/> within the request's token limit, so the JSON always closes
    /// before the limit. A limit too small for even the shortest valid output (<c>{}</c> for json_object) is a 400
    /// naming <c>max_tokens</c>, or the messages when the context's room is what limits it.
    /// </summary>
    public static JsonTokenConstraint Limit(JsonMatcher matcher, Engine.InferenceEngine engine, Engine.GenerationRequest request, bool clientLimit)
    {
        try
        {
            return new JsonTokenConstraint(matcher, VocabularyTrie.For(engine.Model.Tokenizer), request.Stopping.StopTokenIds, request.Stopping.MaxTokens);
        }
        catch (TokenBudgetTooSmallException e) when (clientLimit)
        {
            throw new BadRequestException($"'max_tokens' is too small for the requested output: {e.Message}", "max_tokens");
        }
        catch (TokenBudgetTooSmallException e)
        {
            throw new BadRequestException($"the prompt leaves too little of the context for the requested output: {e.Message}", "messages");
        }
    }
}
