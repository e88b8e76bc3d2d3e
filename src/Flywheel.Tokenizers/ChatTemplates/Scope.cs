namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// A variable frame. jinja2 gives each for-loop iteration, macro call and with-block a fresh frame
/// whose assignments vanish when it ends; if-blocks share their parent's frame.
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public Scope? Parent { get; } = parent;

    public void Set(string name, object? value) => _vars[name] = value;

    public bool TryGet(string name, out object? value)
    {
        for (var scope = this; scope != null; scope = scope.Parent)
        {
            if (scope._vars.TryGetValue(name, out value))
            {
                return true;
            }
        }

        value = null;
        return false;
    }
}
