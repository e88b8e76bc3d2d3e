namespace Flywheel.Engine.Constraints;

/// <summary>A value of <paramref name="schema"/> is expected next, after at most <see cref="MatchFrame.MaxWhitespace"/> whitespace bytes.</summary>
internal sealed class ValueFrame(SchemaNode schema, int whitespace) : MatchFrame
{
    public override int RemainingBytes => MinimalOutput.Value(schema);

    public override void Step(MatchStack self, byte b, List<MatchStack> output)
    {
        if (IsWhitespace(b))
        {
            if (whitespace < MaxWhitespace) output.Add(self.Rest!.Push(new ValueFrame(schema, whitespace + 1)));
            return;
        }
        Begin(schema, b, self.Rest!, output);
    }

    /// <summary>Starts a value of <paramref name="schema"/> with its first byte <paramref name="b"/>, inside <paramref name="parent"/>.</summary>
    public static void Begin(SchemaNode schema, byte b, MatchStack parent, List<MatchStack> output)
    {
        if (schema.AnyOf is { } alternatives)
        {
            foreach (var alternative in alternatives) Begin(alternative, b, parent, output);
            return;
        }
        if (schema.Literals is { } literals)
        {
            LiteralFrame.Begin(literals, b, parent, output);
            return;
        }
        var types = schema.Types;
        switch (b)
        {
            case (byte)'{' when (types & JsonTypes.Object) != 0:
                output.Add(parent.Push(ObjectFrame.Open(schema)));
                break;
            case (byte)'[' when (types & JsonTypes.Array) != 0:
                output.Add(parent.Push(ArrayFrame.Open(schema)));
                break;
            case (byte)'"' when (types & JsonTypes.String) != 0:
                output.Add(parent.Push(new StringFrame(schema, default)));
                break;
            case (byte)'-' or (>= (byte)'0' and <= (byte)'9') when (types & (JsonTypes.Number | JsonTypes.Integer)) != 0:
                output.Add(parent.Push(NumberFrame.Begin(b, integerOnly: (types & JsonTypes.Number) == 0)));
                break;
            case (byte)'t' when (types & JsonTypes.Boolean) != 0:
                LiteralFrame.Begin(LiteralFrame.True, b, parent, output);
                break;
            case (byte)'f' when (types & JsonTypes.Boolean) != 0:
                LiteralFrame.Begin(LiteralFrame.False, b, parent, output);
                break;
            case (byte)'n' when (types & JsonTypes.Null) != 0:
                LiteralFrame.Begin(LiteralFrame.Null, b, parent, output);
                break;
        }
    }
}
