namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// A chat template failed to parse or to render. <see cref="Line"/> and <see cref="Column"/> are 1-based
/// positions in the template source (0 when unknown). <see cref="Reason"/> is the message without the
/// position suffix; for <c>raise_exception(msg)</c> it is exactly <c>msg</c>.
/// </summary>
public sealed class ChatTemplateException : Exception
{
    public ChatTemplateException(string reason, int line = 0, int column = 0, bool raisedByTemplate = false, Exception? inner = null)
        : base(Format(reason, line, column), inner)
    {
        Reason = reason;
        Line = line;
        Column = column;
        RaisedByTemplate = raisedByTemplate;
    }

    /// <summary>The error without position information.</summary>
    public string Reason { get; }

    /// <summary>1-based line of the failing construct, or 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column of the failing construct, or 0 when unknown.</summary>
    public int Column { get; }

    /// <summary>True when the template itself called <c>raise_exception</c>.</summary>
    public bool RaisedByTemplate { get; }

    private static string Format(string reason, int line, int column) =>
        line > 0 ? $"{reason} (line {line}, column {column})" : reason;
}
