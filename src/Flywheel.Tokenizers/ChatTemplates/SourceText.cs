namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// Template source after jinja2's newline normalization: \r\n and \r become \n, and one trailing
/// newline is dropped (jinja2's keep_trailing_newline=False default, which transformers keeps).
/// </summary>
internal sealed class SourceText
{
    private readonly List<int> _lineStarts = [0];

    public SourceText(string source)
    {
        var normalized = source.Replace("\r\n", "\n").Replace('\r', '\n');
        if (normalized.EndsWith('\n'))
        {
            normalized = normalized[..^1];
        }

        Text = normalized;
        for (var i = 0; i < normalized.Length; i++)
        {
            if (normalized[i] == '\n')
            {
                _lineStarts.Add(i + 1);
            }
        }
    }

    public string Text { get; }

    public (int Line, int Column) Position(int offset)
    {
        var index = _lineStarts.BinarySearch(offset);
        if (index < 0)
        {
            index = ~index - 1;
        }

        return (index + 1, offset - _lineStarts[index] + 1);
    }

    public ChatTemplateException Error(string reason, int offset)
    {
        var (line, column) = Position(offset);
        return new ChatTemplateException(reason, line, column);
    }
}
