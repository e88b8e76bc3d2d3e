namespace Flywheel.Engine.Constraints;

/// <summary>A string value being read, after its opening quote; min/maxLength count code points.</summary>
internal sealed class StringFrame(SchemaNode schema, JsonStringLexer lexer) : MatchFrame
{
    /// <summary>Between characters (not inside an escape or a multi-byte character).</summary>
    public bool AtBoundary => lexer.AtBoundary;

    /// <summary>Characters the string may still take (maxLength minus those read).</summary>
    public int Room => schema.MaxLength - lexer.Chars;

    /// <summary>Characters minLength still wants.</summary>
    public int Deficit => Math.Max(0, schema.MinLength - lexer.Chars);

    /// <summary>The rest of an escape or a character, the characters minLength still wants, and the closing quote.</summary>
    public override int RemainingBytes
    {
        get
        {
            var pending = lexer.Utf8Left + (lexer.Escape == 1 ? 1 : lexer.Escape >= 2 ? 6 - lexer.Escape : 0);
            return pending + Math.Max(0, schema.MinLength - lexer.Chars) + 1;
        }
    }

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
