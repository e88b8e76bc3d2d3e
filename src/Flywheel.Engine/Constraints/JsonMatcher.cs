using System.Text;

namespace Flywheel.Engine.Constraints;

/// <summary>
/// Byte-level matcher of a JSON document against a <see cref="JsonSchema"/>: a pushdown automaton whose states are
/// immutable stacks of frames, kept as a set so <c>anyOf</c> alternatives run side by side until bytes tell them
/// apart. A byte is accepted when it keeps the text a prefix of some valid document; <see cref="IsAccepting"/> says
/// the text is a whole one. An optional fixed prefix and suffix surround the value (tool-call markers).
/// Not thread-safe; one matcher per generation.
/// </summary>
public sealed class JsonMatcher
{
    /// <summary>Most alternative parses kept at once; further ones are dropped (each kept one is still valid).</summary>
    internal const int MaxAlternatives = 64;

    private List<MatchStack> _states;
    private List<MatchStack> _scratch = [];

    public JsonMatcher(JsonSchema schema, string prefix = "", string suffix = "")
    {
        _states = [RootFrame.Start(new RootFrame.Shape(Encoding.UTF8.GetBytes(prefix), schema.Root, Encoding.UTF8.GetBytes(suffix)))];
    }

    internal IReadOnlyList<MatchStack> States => _states;

    /// <summary>The text so far is a complete document.</summary>
    public bool IsAccepting => _states.Any(s => s.IsAccepting);

    /// <summary>The document is complete and nothing but whitespace may follow: generation should end.</summary>
    public bool IsFinished => _states.Count > 0 && _states.All(s => s.IsFinished);

    /// <summary>
    /// Fewest bytes that complete the document from here (0 once it is finished; a complete value that still needs
    /// something to end it, such as a number at the root, counts 1 for the byte or stop token that ends it).
    /// </summary>
    public int RemainingBytes => Remaining(_states);

    /// <summary><see cref="RemainingBytes"/> after <paramref name="bytes"/>, or −1 when they are refused; does not move.</summary>
    public int RemainingBytesAfter(ReadOnlySpan<byte> bytes) => Run(_states, bytes, out var end) ? Remaining(end) : -1;

    internal static int Remaining(IReadOnlyList<MatchStack> states)
    {
        var best = MinimalOutput.Unbounded;
        foreach (var s in states) best = Math.Min(best, MinimalOutput.Complete(s));
        return best;
    }

    /// <summary>
    /// When every parse is inside a string value between characters, fills <paramref name="strings"/> with each one's
    /// room (characters it may still take), deficit (characters minLength still wants) and remaining bytes, and
    /// returns true; otherwise false.
    /// </summary>
    internal bool OpenStrings(List<(int Room, int Deficit, int Remaining)> strings)
    {
        strings.Clear();
        foreach (var s in _states)
        {
            if (s.Top is not StringFrame { AtBoundary: true } str) return false;
            strings.Add((str.Room, str.Deficit, MinimalOutput.Complete(s)));
        }
        return strings.Count > 0;
    }

    /// <summary>The one byte that may come next, or −1 when none or several may (stops at the second).</summary>
    internal int OnlyNextByte()
    {
        var only = -1;
        for (var b = 0; b < 256; b++)
        {
            _scratch.Clear();
            Step(_states, (byte)b, _scratch);
            if (_scratch.Count == 0) continue;
            if (only >= 0) return -1;
            only = b;
        }
        _scratch.Clear();
        return only;
    }

    /// <summary>Whether every byte of <paramref name="bytes"/> would be accepted, without moving.</summary>
    public bool CanAdvance(ReadOnlySpan<byte> bytes) => Run(_states, bytes, out _);

    /// <summary>Moves past <paramref name="bytes"/> if every one is accepted; otherwise stays where it was and returns false.</summary>
    public bool TryAdvance(ReadOnlySpan<byte> bytes)
    {
        if (!Run(_states, bytes, out var states)) return false;
        _states = states;
        return true;
    }

    /// <summary>Moves past the UTF-8 bytes of <paramref name="text"/> if all are accepted.</summary>
    public bool TryAdvance(string text) => TryAdvance(Encoding.UTF8.GetBytes(text));

    private bool Run(List<MatchStack> start, ReadOnlySpan<byte> bytes, out List<MatchStack> end)
    {
        end = start;
        foreach (var b in bytes)
        {
            var next = new List<MatchStack>();
            Step(end, b, next);
            if (next.Count == 0) return false;
            end = next;
        }
        return true;
    }

    /// <summary>Feeds one byte to every state; the survivors go to <paramref name="output"/>.</summary>
    internal static void Step(IReadOnlyList<MatchStack> states, byte b, List<MatchStack> output)
    {
        foreach (var s in states)
        {
            s.Top.Step(s, b, output);
            if (output.Count > MaxAlternatives)
            {
                output.RemoveRange(MaxAlternatives, output.Count - MaxAlternatives);
                return;
            }
        }
    }
}
