namespace Flywheel.Engine.Constraints;

/// <summary>One of a set of exact byte strings (true, false, null, enum and const values), <paramref name="position"/> bytes in.</summary>
internal sealed class LiteralFrame(List<byte[]> candidates, int position) : MatchFrame
{
    public static readonly List<byte[]> True = ["true"u8.ToArray()];
    public static readonly List<byte[]> False = ["false"u8.ToArray()];
    public static readonly List<byte[]> Null = ["null"u8.ToArray()];

    public static void Begin(List<byte[]> literals, byte b, MatchStack parent, List<MatchStack> output) =>
        Continue(literals, 0, b, parent, output);

    public override int RemainingBytes => candidates.Min(c => c.Length - position);

    public override bool CanEnd => candidates.Any(c => c.Length == position);

    public override void Step(MatchStack self, byte b, List<MatchStack> output)
    {
        Continue(candidates, position, b, self.Rest!, output);
        if (CanEnd) EndThenStep(self, b, output);
    }

    private static void Continue(List<byte[]> candidates, int position, byte b, MatchStack parent, List<MatchStack> output)
    {
        List<byte[]>? next = null;
        foreach (var c in candidates)
        {
            if (c.Length > position && c[position] == b) (next ??= []).Add(c);
        }
        if (next is null) return;
        var frame = new LiteralFrame(next, position + 1);
        // A literal nothing can extend is complete at once (closed strings, objects, true/false/null).
        output.Add(next.All(c => c.Length == position + 1) ? parent.Push(frame).Pop() : parent.Push(frame));
    }
}
