using System.Text;

namespace Flywheel.Engine.Parsing;

/// <summary>
/// Qwen/Hermes tool calls: <c>&lt;tool_call&gt;\n{"name": "f", "arguments": {...}}\n&lt;/tool_call&gt;</c>, any number of
/// them, possibly after some text. Whitespace between calls is dropped; a block whose JSON is not a call stays content.
/// </summary>
public sealed class HermesToolCallParser : IToolCallParser
{
    public const string Open = "<tool_call>";
    public const string Close = "</tool_call>";

    private readonly StringBuilder _pending = new();  // text not yet released: a possible marker, trailing whitespace, or a call
    private bool _inCall;

    public int CallCount { get; private set; }

    public void Push(string text, List<ChatOutputDelta> output)
    {
        _pending.Append(text);
        while (true)
        {
            var s = _pending.ToString();
            if (_inCall)
            {
                var end = s.IndexOf(Close, StringComparison.Ordinal);
                if (end < 0) return;
                EmitCall(s[..end], Open + s[..(end + Close.Length)], output);
                _inCall = false;
                _pending.Clear().Append(s[(end + Close.Length)..]);
                continue;
            }
            var start = s.IndexOf(Open, StringComparison.Ordinal);
            if (start >= 0)
            {
                // Whitespace before a call only separates it from the text or the call before.
                var before = s[..start];
                var content = before[..(before.Length - HeldText.TrailingWhitespace(before, before.Length))];
                if (content.Length > 0) output.Add(ChatOutputDelta.Content(content));
                _inCall = true;
                _pending.Clear().Append(s[(start + Open.Length)..]);
                continue;
            }
            // Hold what may start a marker, and trailing whitespace (it may precede a call).
            var held = HeldText.MarkerPrefixSuffix(s, Open);
            held += HeldText.TrailingWhitespace(s, s.Length - held);
            if (s.Length > held)
            {
                output.Add(ChatOutputDelta.Content(s[..(s.Length - held)]));
                _pending.Clear().Append(s[(s.Length - held)..]);
            }
            return;
        }
    }

    public void Finish(List<ChatOutputDelta> output)
    {
        var rest = _pending.ToString();
        _pending.Clear();
        if (_inCall)
        {
            // Ended inside a call (a stop token right after the JSON): a complete call still counts.
            EmitCall(rest, Open + rest, output);
            _inCall = false;
        }
        else if (rest.Length > 0 && (CallCount == 0 || !string.IsNullOrWhiteSpace(rest)))
        {
            output.Add(ChatOutputDelta.Content(rest));
        }
    }

    private void EmitCall(string body, string raw, List<ChatOutputDelta> output)
    {
        if (ToolCallJson.TryRead(body.Trim(), out var name, out var arguments))
        {
            output.Add(ChatOutputDelta.Call(new ParsedToolCall(CallCount++, ParsedToolCall.NewId(), name, arguments)));
        }
        else
        {
            output.Add(ChatOutputDelta.Content(raw));
        }
    }
}
