using System.Text.Json.Nodes;
using Flywheel.Engine.Parsing;

namespace Flywheel.Engine.Constraints;

/// <summary>
/// The decoding constraint of a chat answer: a forced tool call in the template's format, a JSON response format, or
/// none. The HTTP server and <see cref="EngineChatClient"/> both choose it here, so the two behave alike.
/// </summary>
public static class ChatOutputConstraint
{
    /// <summary>
    /// The matcher the answer must follow, or null for free text. <paramref name="forcedCall"/> (the functions one of
    /// which must be called, with their parameter schemas) wins over <paramref name="format"/>; callers refuse asking
    /// for both. When the prompt opened a think block, the forced output first closes it, so the JSON (or call) lands
    /// in content rather than reasoning. Throws <see cref="UnsupportedSchemaException"/> for a parameter schema outside
    /// the enforced subset.
    /// </summary>
    public static JsonMatcher? Matcher(JsonSchema? format, IReadOnlyList<(string Name, JsonNode? Parameters)>? forcedCall, ToolCallFormat toolFormat, bool promptOpensThinking)
    {
        if (forcedCall is { Count: > 0 }) return ToolCallGrammar.ForcedCall(toolFormat, forcedCall, promptOpensThinking);
        if (format is null) return null;
        return new JsonMatcher(format, promptOpensThinking ? ReasoningParser.Close + "\n\n" : "");
    }

    /// <summary>
    /// The token constraint of <paramref name="matcher"/> within <paramref name="request"/>'s token limit, so the
    /// output always closes before it. Throws <see cref="TokenBudgetTooSmallException"/> when even the shortest valid
    /// output does not fit.
    /// </summary>
    public static JsonTokenConstraint Limit(JsonMatcher matcher, LoadedModel model, GenerationRequest request) =>
        new(matcher, VocabularyTrie.For(model.Tokenizer), request.Stopping.StopTokenIds, request.Stopping.MaxTokens);
}
