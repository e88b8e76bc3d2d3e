namespace Flywheel.Engine.Constraints;

/// <summary>
/// The document: a fixed prefix, one value, then a fixed suffix (both empty for plain JSON; a forced tool call uses
/// them for its markers). Whitespace after the value is bounded.
/// </summary>
internal sealed class RootFrame(RootFrame.Shape shape, RootFrame.Phase phase, int position) : MatchFrame, IValueParent
{
    public sealed record Shape(byte[] Prefix, SchemaNode Schema, byte[] Suffix);

    public enum Phase { Prefix, Value, AfterValue, Suffix, Done }

    public static MatchStack Start(Shape shape)
    {
        var root = new RootFrame(shape, shape.Prefix.Length == 0 ? Phase.Value : Phase.Prefix, 0);
        var stack = new MatchStack(root, null);
        return shape.Prefix.Length == 0 ? stack.Push(new ValueFrame(shape.Schema, 0)) : stack;
    }

    public bool IsAccepting => phase == Phase.Done || (phase == Phase.AfterValue && shape.Suffix.Length == 0);

    public bool IsFinished => IsAccepting;

    public override int RemainingBytes => phase switch
    {
        Phase.Prefix => MinimalOutput.Clamp((long)shape.Prefix.Length - position + MinimalOutput.Value(shape.Schema) + shape.Suffix.Length),
        Phase.Value or Phase.AfterValue => shape.Suffix.Length,
        Phase.Suffix => shape.Suffix.Length - position,
        _ => 0,
    };

    public MatchFrame AfterChild() => new RootFrame(shape, Phase.AfterValue, 0);

    public override void Step(MatchStack self, byte b, List<MatchStack> output)
    {
        switch (phase)
        {
            case Phase.Prefix when shape.Prefix[position] == b:
                if (position + 1 < shape.Prefix.Length) output.Add(new MatchStack(new RootFrame(shape, Phase.Prefix, position + 1), null));
                else output.Add(new MatchStack(new RootFrame(shape, Phase.Value, 0), null).Push(new ValueFrame(shape.Schema, 0)));
                break;
            case Phase.AfterValue:
                // Whitespace (bounded), or the suffix's first byte; position counts whitespace here.
                // Both may hold (a suffix that starts with a newline): keep both readings.
                if (IsWhitespace(b) && position < MaxWhitespace) output.Add(new MatchStack(new RootFrame(shape, Phase.AfterValue, position + 1), null));
                if (shape.Suffix.Length > 0 && shape.Suffix[0] == b) output.Add(new MatchStack(Advance(1), null));
                break;
            case Phase.Suffix when shape.Suffix[position] == b:
                output.Add(new MatchStack(Advance(position + 1), null));
                break;
        }
    }

    private RootFrame Advance(int matched) => matched == shape.Suffix.Length ? new RootFrame(shape, Phase.Done, 0) : new RootFrame(shape, Phase.Suffix, matched);
}
