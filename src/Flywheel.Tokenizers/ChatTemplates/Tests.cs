namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>The builtin tests used after "is" (jinja2 3.1 semantics).</summary>
internal static class Tests
{
    private delegate bool Test(object? value, List<object?> args, Interpreter interpreter);

    private static readonly Dictionary<string, Test> Table = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _, _) => v is not Undefined,
        ["undefined"] = (v, _, _) => v is Undefined,
        ["none"] = (v, _, _) => v is null,
        ["boolean"] = (v, _, _) => v is bool,
        ["false"] = (v, _, _) => v is false,
        ["true"] = (v, _, _) => v is true,
        ["integer"] = (v, _, _) => v is long or System.Numerics.BigInteger,
        ["float"] = (v, _, _) => v is double,
        ["number"] = (v, _, _) => PyOps.IsNumber(v),
        ["string"] = (v, _, _) => v is string,
        ["mapping"] = (v, _, _) => v is PyDict,
        ["iterable"] = (v, _, _) => PyOps.IsIterable(v),
        ["sequence"] = (v, _, _) => v is string or List<object?> or PyTuple or PyDict or Undefined or PyView { Subscriptable: true },
        ["callable"] = (v, _, _) => v is ICallable or Undefined, // Undefined defines __call__ (which raises)
        ["odd"] = (v, _, _) => PyOps.Equal(Arithmetic.Binary("%", v, 2L), 1L),
        ["even"] = (v, _, _) => PyOps.Equal(Arithmetic.Binary("%", v, 2L), 0L),
        ["divisibleby"] = (v, a, _) => PyOps.Equal(Arithmetic.Binary("%", v, a[0]), 0L),
        // jinja2 tests str(value).islower() / .isupper(), whatever the value's type.
        ["lower"] = (v, _, _) => PyOps.Str(v) is var s && s.Any(PyCase.IsCased) && s == PyCase.Lower(s),
        ["upper"] = (v, _, _) => PyOps.Str(v) is var s && s.Any(PyCase.IsCased) && s == PyCase.Upper(s),
        ["escaped"] = (_, _, _) => false,
        // Python "is": identity, approximated by value for immutable scalars (which CPython interns or caches).
        ["sameas"] = (v, a, _) => v is null or bool or long or double or string
            ? PyOps.TypeName(v) == PyOps.TypeName(a[0]) && PyOps.Equal(v, a[0])
            : ReferenceEquals(v, a[0]),
        ["in"] = (v, a, _) => PyOps.Contains(a[0], v),
        ["eq"] = (v, a, _) => PyOps.Equal(v, a[0]),
        ["equalto"] = (v, a, _) => PyOps.Equal(v, a[0]),
        ["=="] = (v, a, _) => PyOps.Equal(v, a[0]),
        ["ne"] = (v, a, _) => !PyOps.Equal(v, a[0]),
        ["!="] = (v, a, _) => !PyOps.Equal(v, a[0]),
        ["lt"] = (v, a, _) => PyOps.Compare(v, a[0], "<") == -1,
        ["lessthan"] = (v, a, _) => PyOps.Compare(v, a[0], "<") == -1,
        ["<"] = (v, a, _) => PyOps.Compare(v, a[0], "<") == -1,
        ["le"] = (v, a, _) => PyOps.Compare(v, a[0], "<=") is -1 or 0,
        ["<="] = (v, a, _) => PyOps.Compare(v, a[0], "<=") is -1 or 0,
        ["gt"] = (v, a, _) => PyOps.Compare(v, a[0], ">") == 1,
        ["greaterthan"] = (v, a, _) => PyOps.Compare(v, a[0], ">") == 1,
        [">"] = (v, a, _) => PyOps.Compare(v, a[0], ">") == 1,
        ["ge"] = (v, a, _) => PyOps.Compare(v, a[0], ">=") is 1 or 0,
        [">="] = (v, a, _) => PyOps.Compare(v, a[0], ">=") is 1 or 0,
        ["filter"] = (v, _, _) => v is string s && Filters.Exists(s),
        ["test"] = (v, _, _) => v is string s && Exists(s),
    };

    public static bool Exists(string name) => Table.ContainsKey(name);

    public static bool Apply(string name, object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        if (!Table.TryGetValue(name, out var test))
        {
            throw new TemplateRuntimeException($"No test named '{name}' found.");
        }

        var all = args.Concat(kwargs.Select(kv => kv.Value)).ToList();
        return test(value, all, interpreter);
    }
}
