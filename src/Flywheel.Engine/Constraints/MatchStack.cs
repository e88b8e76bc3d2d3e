namespace Flywheel.Engine.Constraints;

/// <summary>
/// One parse position: an immutable stack of frames, innermost first. Steps build new stacks that share their tails,
/// so the matcher can try a byte, or a whole trie of tokens, without copying or undoing anything.
/// </summary>
internal sealed class MatchStack(MatchFrame top, MatchStack? rest)
{
    public MatchFrame Top { get; } = top;
    public MatchStack? Rest { get; } = rest;

    public MatchStack Push(MatchFrame frame) => new(frame, this);

    /// <summary>The value on top is complete: drop it and let the enclosing frame move past it.</summary>
    public MatchStack Pop() => new(((IValueParent)Rest!.Top).AfterChild(), Rest.Rest);

    /// <summary>Whether the text so far is a complete document.</summary>
    public bool IsAccepting
    {
        get
        {
            for (var s = this; ; s = s.Pop())
            {
                if (s.Top is RootFrame root) return root.IsAccepting;
                if (!s.Top.CanEnd) return false;
            }
        }
    }

    /// <summary>Whether the document is complete and only (bounded) whitespace could follow.</summary>
    public bool IsFinished => Top is RootFrame root && root.IsFinished;
}

/// <summary>A frame that holds values: told when the value inside it is complete.</summary>
internal interface IValueParent
{
    MatchFrame AfterChild();
}

/// <summary>One level of the parse. Immutable.</summary>
internal abstract class MatchFrame
{
    /// <summary>Most whitespace bytes in one gap between tokens: enough for pretty-printing, never an endless run.</summary>
    public const int MaxWhitespace = 8;

    /// <summary>Feeds <paramref name="b"/> to <paramref name="self"/> (whose top is this frame); adds every stack it can lead to.</summary>
    public abstract void Step(MatchStack self, byte b, List<MatchStack> output);

    /// <summary>
    /// Bytes that complete this frame, counting a value it holds as already complete (see <see cref="MinimalOutput"/>).
    /// </summary>
    public abstract int RemainingBytes { get; }

    /// <summary>The value on top may end here, and does when a byte it cannot take arrives (numbers, some literals).</summary>
    public virtual bool CanEnd => false;

    public static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\t' or (byte)'\r';

    /// <summary>Ends the value on top of <paramref name="self"/> and feeds <paramref name="b"/> to what encloses it.</summary>
    protected static void EndThenStep(MatchStack self, byte b, List<MatchStack> output)
    {
        var parent = self.Pop();
        parent.Top.Step(parent, b, output);
    }
}
