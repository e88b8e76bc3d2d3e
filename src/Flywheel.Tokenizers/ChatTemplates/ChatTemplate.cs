namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// A parsed Jinja chat template, rendered the way Hugging Face transformers' apply_chat_template does:
/// jinja2's sandbox with trim_blocks and lstrip_blocks, loop controls, a tojson that keeps non-ASCII
/// text, and the raise_exception/strftime_now globals. Parse once; <see cref="Render(ChatTemplateContext)"/>
/// is thread-safe (each call gets its own interpreter state).
/// </summary>
public sealed class ChatTemplate
{
    private readonly SourceText _source;
    private readonly List<Stmt> _body;

    private ChatTemplate(SourceText source, List<Stmt> body)
    {
        _source = source;
        _body = body;
    }

    /// <summary>The template text as given.</summary>
    public string Source { get; private init; } = "";

    /// <summary>Parses a template; throws <see cref="ChatTemplateException"/> with line and column on syntax errors.</summary>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var text = new SourceText(source);
        var body = Parser.Parse(text);
        TemplateValidator.Validate(text, body);
        return new ChatTemplate(text, body) { Source = source };
    }

    /// <summary>Renders with the context's messages, tools and variables.</summary>
    public string Render(ChatTemplateContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new Interpreter(_source, context.Clock ?? (() => DateTimeOffset.Now)).Render(_body, context.CreateScope());
    }

    /// <summary>Renders with exactly the given variables (JSON-like CLR values or JsonNode).</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables, Func<DateTimeOffset>? clock = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var scope = new Scope(null);
        foreach (var (key, value) in variables)
        {
            scope.Set(key, PyValues.FromClr(value));
        }

        return new Interpreter(_source, clock ?? (() => DateTimeOffset.Now)).Render(_body, scope);
    }
}
