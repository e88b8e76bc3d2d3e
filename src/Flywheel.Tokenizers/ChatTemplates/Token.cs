namespace Flywheel.Tokenizers.ChatTemplates;

internal enum TokenKind
{
    Data,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>One lexical token; <see cref="Offset"/> indexes the normalized source.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, object? Value, int Offset)
{
    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    public bool IsOperator(string op) => Kind == TokenKind.Operator && Text == op;

    /// <summary>The token as jinja2 names it in error messages (quote it when printing).</summary>
    public string Describe() => Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.BlockEnd => "end of statement block",
        TokenKind.VariableEnd => "end of print statement",
        TokenKind.Data => "template data / text",
        _ => Text,
    };

    public override string ToString() => $"'{Describe()}'";
}
