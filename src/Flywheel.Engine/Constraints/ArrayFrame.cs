namespace Flywheel.Engine.Constraints;

/// <summary>An array being read: <paramref name="count"/> items so far, minItems/maxItems enforced at <c>]</c> and <c>,</c>.</summary>
internal sealed class ArrayFrame(SchemaNode schema, ArrayFrame.Phase phase, int count, int whitespace) : MatchFrame, IValueParent
{
    public enum Phase { Open, Value, AfterValue }

    public static ArrayFrame Open(SchemaNode schema) => new(schema, Phase.Open, 0, 0);

    public override int RemainingBytes => MinimalOutput.ArrayRest(schema, phase == Phase.Value ? count + 1 : count);

    public MatchFrame AfterChild() => new ArrayFrame(schema, Phase.AfterValue, count + 1, 0);

    public override void Step(MatchStack self, byte b, List<MatchStack> output)
    {
        if (IsWhitespace(b))
        {
            if (whitespace < MaxWhitespace) output.Add(self.Rest!.Push(new ArrayFrame(schema, phase, count, whitespace + 1)));
            return;
        }
        switch (phase)
        {
            case Phase.Open:
                if (b == (byte)']' && schema.MinItems == 0) output.Add(self.Pop());
                else if (schema.MaxItems > 0) ValueFrame.Begin(schema.Items!, b, self.Rest!.Push(new ArrayFrame(schema, Phase.Value, count, 0)), output);
                break;
            case Phase.AfterValue:
                if (b == (byte)',' && count < schema.MaxItems)
                {
                    output.Add(self.Rest!.Push(new ArrayFrame(schema, Phase.Value, count, 0)).Push(new ValueFrame(schema.Items!, 0)));
                }
                else if (b == (byte)']' && count >= schema.MinItems)
                {
                    output.Add(self.Pop());
                }
                break;
        }
    }
}
