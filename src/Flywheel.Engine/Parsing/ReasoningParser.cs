using System.Text;

namespace Flywheel.Engine.Parsing;

/// <summary>
/// DeepSeek-R1 style reasoning: text between <c>&lt;think&gt;</c> and <c>&lt;/think&gt;</c> at the start of the answer is
/// reasoning, the rest is content. When the prompt already opened the block (templates that end the generation prompt
/// with <c>&lt;think&gt;</c>), the output starts inside it. Whitespace around the block is dropped. Text that may be a
/// marker is held back until it is known, so streamed pieces add up to what a whole answer gives. Not thread-safe.
/// </summary>
public sealed class ReasoningParser
{
    public const string Open = "<think>";
    public const string Close = "</think>";

    private readonly StringBuilder _pending = new();
    private State _state;
    private bool _emittedReasoning;

    private enum State { Start, Thinking, AfterThinking, Content }

    /// <param name="startsInside">The prompt ends inside an open think block.</param>
    public ReasoningParser(bool startsInside) => _state = startsInside ? State.Thinking : State.Start;

    /// <summary>True when <paramref name="prompt"/> (a rendered chat prompt) ends inside an open think block.</summary>
    public static bool PromptOpensThinking(string prompt)
    {
        var open = prompt.LastIndexOf(Open, StringComparison.Ordinal);
        return open >= 0 && prompt.IndexOf(Close, open, StringComparison.Ordinal) < 0 && string.IsNullOrWhiteSpace(prompt[(open + Open.Length)..]);
    }

    /// <summary>Adds generated text; appends reasoning and content pieces known so far.</summary>
    public void Push(string text, List<ChatOutputDelta> output)
    {
        if (_state == State.Content)
        {
            if (text.Length > 0) output.Add(ChatOutputDelta.Content(text));
            return;
        }
        _pending.Append(text);
        while (true)
        {
            var s = _pending.ToString();
            switch (_state)
            {
                case State.Start:
                {
                    var head = s.TrimStart();
                    if (head.StartsWith(Open, StringComparison.Ordinal))
                    {
                        _state = State.Thinking;
                        _pending.Clear().Append(head[Open.Length..]);
                        continue;
                    }
                    if (Open.StartsWith(head, StringComparison.Ordinal)) return; // whitespace, or a prefix of <think>
                    _state = State.Content;
                    _pending.Clear();
                    output.Add(ChatOutputDelta.Content(s));
                    return;
                }
                case State.Thinking:
                {
                    var end = s.IndexOf(Close, StringComparison.Ordinal);
                    var body = end >= 0 ? s[..end] : s;
                    // The reasoning starts at its first non-space character and never ends in held whitespace.
                    if (!_emittedReasoning) body = body.TrimStart();
                    var held = end >= 0 ? HeldText.TrailingWhitespace(body, body.Length) : 0;
                    if (end < 0)
                    {
                        held = HeldText.MarkerPrefixSuffix(body, Close);
                        held += HeldText.TrailingWhitespace(body, body.Length - held);
                    }
                    var release = body[..(body.Length - held)];
                    if (release.Length > 0)
                    {
                        output.Add(ChatOutputDelta.Reasoning(release));
                        _emittedReasoning = true;
                    }
                    if (end >= 0)
                    {
                        _state = State.AfterThinking;
                        _pending.Clear().Append(s[(end + Close.Length)..]);
                        continue;
                    }
                    _pending.Clear().Append(body[(body.Length - held)..]);
                    return;
                }
                case State.AfterThinking:
                {
                    var head = s.TrimStart();
                    if (head.Length == 0)
                    {
                        _pending.Clear();
                        return;
                    }
                    _state = State.Content;
                    _pending.Clear();
                    output.Add(ChatOutputDelta.Content(head));
                    return;
                }
                default:
                    return;
            }
        }
    }

    /// <summary>The generation ended: releases held text (an unclosed think block stays reasoning).</summary>
    public void Finish(List<ChatOutputDelta> output)
    {
        var s = _pending.ToString();
        _pending.Clear();
        switch (_state)
        {
            case State.Start when s.Length > 0:
                output.Add(ChatOutputDelta.Content(s));
                break;
            case State.Thinking:
                var rest = _emittedReasoning ? s : s.TrimStart();
                rest = rest.TrimEnd();
                if (rest.Length > 0) output.Add(ChatOutputDelta.Reasoning(rest));
                break;
        }
    }
}
