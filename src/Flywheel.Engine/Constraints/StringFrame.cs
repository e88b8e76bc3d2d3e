namespace Flywheel.Engine.Constraints;

/// <summary>A string value being read, after its opening quote; min/maxLength count code points.</summary>
internal sealed class StringFrame(SchemaNode schema, JsonStringLexer lexer) : MatchFrame
{
    /// <summary>Between characters (not inside an escape or a multi-byte character).</summary>
    public bool AtBoundary => lexer.AtBoundary;

    /// <summary>Characters the string may still take (maxLength minus those read).</summary>
    public int Room => schema.MaxLength - lexer.Chars;

    public override void Step(MatchStack self, byte b, List<MatchStack> output)
    {
        switch (lexer.Next(b, schema.MaxLength, escapes: true, out var next))
        {
            case JsonStringLexer.Step.Continue:
                output.Add(self.Rest!.Push(new StringFrame(schema, next)));
                break;
            case JsonStringLexer.Step.Close when lexer.Chars >= schema.MinLength:
                output.Add(self.Pop());
                break;
        }
    }
}
