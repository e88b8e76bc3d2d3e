using System.Text;

namespace Flywheel.Engine.Parsing;

/// <summary>
/// Llama 3.x tool calls: the whole answer is a JSON call <c>{"name": "f", "parameters": {...}}</c> (the templates' custom
/// tool format), optionally after <c>&lt;|python_tag|&gt;</c>; several calls may be separated by <c>;</c>. An answer that
/// starts like one is held until the end and becomes content again if it does not parse as calls.
/// </summary>
public sealed class Llama3ToolCallParser : IToolCallParser
{
    public const string PythonTag = "<|python_tag|>";

    private readonly StringBuilder _pending = new();
    private State _state = State.Start;

    private enum State { Start, Holding, Content }

    public int CallCount { get; private set; }

    public void Push(string text, List<ChatOutputDelta> output)
    {
        if (_state == State.Content)
        {
            if (text.Length > 0) output.Add(ChatOutputDelta.Content(text));
            return;
        }
        _pending.Append(text);
        if (_state == State.Holding) return;
        var s = _pending.ToString();
        var head = s.TrimStart();
        if (head.Length == 0) return;
        if (head[0] == '{' || head.StartsWith(PythonTag, StringComparison.Ordinal))
        {
            _state = State.Holding;
        }
        else if (!PythonTag.StartsWith(head, StringComparison.Ordinal))
        {
            _state = State.Content;
            _pending.Clear();
            output.Add(ChatOutputDelta.Content(s));
        }
    }

    public void Finish(List<ChatOutputDelta> output)
    {
        var s = _pending.ToString();
        _pending.Clear();
        if (_state == State.Content || s.Length == 0) return;
        var body = s.Trim();
        if (body.StartsWith(PythonTag, StringComparison.Ordinal)) body = body[PythonTag.Length..].Trim();
        var calls = new List<(string Name, string Arguments)>();
        foreach (var part in SplitCalls(body))
        {
            if (!ToolCallJson.TryRead(part, out var name, out var arguments))
            {
                output.Add(ChatOutputDelta.Content(s));
                return;
            }
            calls.Add((name, arguments));
        }
        if (calls.Count == 0)
        {
            output.Add(ChatOutputDelta.Content(s));
            return;
        }
        foreach (var (name, arguments) in calls)
        {
            output.Add(ChatOutputDelta.Call(new ParsedToolCall(CallCount++, ParsedToolCall.NewId(), name, arguments)));
        }
    }

    /// <summary>Splits at top-level semicolons (outside strings and brackets).</summary>
    private static IEnumerable<string> SplitCalls(string body)
    {
        var depth = 0;
        var inString = false;
        var escaped = false;
        var start = 0;
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (inString)
            {
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') inString = false;
                continue;
            }
            switch (c)
            {
                case '"': inString = true; break;
                case '{' or '[': depth++; break;
                case '}' or ']': depth--; break;
                case ';' when depth == 0:
                    if (body[start..i].Trim() is { Length: > 0 } part) yield return part;
                    start = i + 1;
                    break;
            }
        }
        if (body[start..].Trim() is { Length: > 0 } last) yield return last;
    }
}
