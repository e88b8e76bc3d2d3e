using Flywheel.Engine.Constraints;
using Flywheel.Engine.Parsing;

namespace Flywheel.Server.Endpoints.OpenAi.Chat;

/// <summary>
/// Chooses the decoding constraint of a chat request (<see cref="ChatOutputConstraint"/>, shared with the in-process
/// chat client) and turns what it refuses into 400s.
/// </summary>
public static class ChatConstraints
{
    /// <summary>The matcher the answer must follow, or null for free text (see <see cref="ChatOutputConstraint.Matcher"/>).</summary>
    public static JsonMatcher? Create(ChatTools tools, JsonSchema? jsonFormat, ToolCallFormat toolFormat, bool promptOpensThinking)
    {
        if (tools.Mode is not (ToolChoiceMode.Required or ToolChoiceMode.Named)) return ChatOutputConstraint.Matcher(jsonFormat, null, toolFormat, promptOpensThinking);
        var functions = tools.Functions
            .Where(f => tools.Forced is null || f["name"]!.GetValue<string>() == tools.Forced)
            .Select(f => (f["name"]!.GetValue<string>(), f["parameters"]))
            .ToList();
        try
        {
            return ChatOutputConstraint.Matcher(null, functions, toolFormat, promptOpensThinking);
        }
        catch (UnsupportedSchemaException e)
        {
            throw new BadRequestException($"a tool's 'parameters' cannot be enforced for tool_choice \"{(tools.Forced ?? "required")}\": {e.Message}", "tools");
        }
    }

    /// <summary>
    /// The token constraint of <paramref name="matcher"/> within the request's token limit, so the JSON always closes
    /// before the limit. A limit too small for even the shortest valid output (<c>{}</c> for json_object) is a 400
    /// naming <c>max_tokens</c>, or the messages when the context's room is what limits it; a schema with no finite
    /// value at all names <paramref name="formatParam"/> (response_format or tools).
    /// </summary>
    public static JsonTokenConstraint Limit(JsonMatcher matcher, Engine.InferenceEngine engine, Engine.GenerationRequest request, bool clientLimit, string formatParam)
    {
        try
        {
            return ChatOutputConstraint.Limit(matcher, engine.Model, request);
        }
        catch (TokenBudgetTooSmallException e) when (e.NoFiniteOutput)
        {
            throw new BadRequestException($"'{formatParam}' cannot be enforced: {e.Message}", formatParam);
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
