namespace Flywheel.Engine.Parsing;

/// <summary>
/// Reads one model's tool-call format out of streamed answer text. Text that might be the start of a tool call is held
/// back until it is known not to be one, so call syntax never leaks into content. Feeding the same text in any split
/// gives the same deltas in total. Not thread-safe; one parser per generation.
/// <para>Call order: any number of <see cref="Push"/>, then <see cref="Finish"/> once.</para>
/// </summary>
public interface IToolCallParser
{
    /// <summary>Adds generated text; appends the content and complete tool calls known so far.</summary>
    void Push(string text, List<ChatOutputDelta> output);

    /// <summary>The generation ended: releases held text, and parses a call still open if it is complete JSON.</summary>
    void Finish(List<ChatOutputDelta> output);

    /// <summary>Tool calls emitted so far.</summary>
    int CallCount { get; }
}
