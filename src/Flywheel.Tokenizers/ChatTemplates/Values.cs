using System.Collections;

namespace Flywheel.Tokenizers.ChatTemplates;

// Runtime values mirror the Python objects jinja2 sees: null (None), bool, long (int), double (float),
// string (str), List<object?> (list), PyTuple (tuple), PyDict (dict, insertion ordered), Undefined,
// Namespace, LoopContext and callables.

/// <summary>jinja2's default Undefined: falsy, renders as "", iterates as empty; most other uses raise.</summary>
internal sealed class Undefined
{
    private readonly object? _owner;
    private readonly bool _hasOwner;
    private readonly object? _name;
    private readonly string? _hint;

    private Undefined(object? owner, bool hasOwner, object? name, string? hint)
    {
        _owner = owner;
        _hasOwner = hasOwner;
        _name = name;
        _hint = hint;
    }

    public static Undefined ForName(string name) => new(null, false, name, null);

    public static Undefined ForMember(object? owner, object? name) => new(owner, true, name, null);

    public static Undefined WithHint(string hint) => new(null, false, null, hint);

    /// <summary>The message jinja2 puts in UndefinedError when this value is misused.</summary>
    public string Message
    {
        get
        {
            if (_hint != null)
            {
                return _hint;
            }

            if (!_hasOwner)
            {
                return $"{PyOps.Repr(_name)} is undefined";
            }

            if (_name is not string)
            {
                return $"{PyOps.ObjectTypeRepr(_owner)} has no element {PyOps.Repr(_name)}";
            }

            return $"{PyOps.Repr(PyOps.ObjectTypeRepr(_owner))} has no attribute {PyOps.Repr(_name)}";
        }
    }
}

/// <summary>A slice object, only ever seen in error messages ("int object has no element slice(None, 2, None)").</summary>
internal sealed record PySlice(object? Start, object? Stop, object? Step);

internal sealed class PyTuple(object?[] items, string[]? fieldNames = null) : IReadOnlyList<object?>
{
    public object?[] Items { get; } = items;

    /// <summary>Attribute names for namedtuple-like results (groupby's grouper and list); null for plain tuples.</summary>
    public string[]? FieldNames { get; } = fieldNames;

    public int Count => Items.Length;

    public object? this[int index] => Items[index];

    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)Items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => Items.GetEnumerator();
}

/// <summary>An insertion-ordered dict with Python key equality (1 == 1.0 == True).</summary>
internal sealed class PyDict
{
    private static readonly object NoneKey = new();
    private readonly OrderedDictionary<object, object?> _items = new(PyKeyComparer.Instance);

    public int Count => _items.Count;

    public IEnumerable<object?> Keys => _items.Keys.Select(Unwrap);

    public IEnumerable<object?> Values => _items.Values;

    public IEnumerable<KeyValuePair<object?, object?>> Items =>
        _items.Select(kv => new KeyValuePair<object?, object?>(Unwrap(kv.Key), kv.Value));

    public void Set(object? key, object? value) => _items[Wrap(key)] = value;

    public bool TryGet(object? key, out object? value) => _items.TryGetValue(Wrap(key), out value);

    public bool ContainsKey(object? key) => _items.ContainsKey(Wrap(key));

    private static object Wrap(object? key) => key ?? NoneKey;

    private static object? Unwrap(object key) => ReferenceEquals(key, NoneKey) ? null : key;

    private sealed class PyKeyComparer : IEqualityComparer<object>
    {
        public static readonly PyKeyComparer Instance = new();

        public new bool Equals(object? x, object? y) => PyOps.Equal(x, y);

        public int GetHashCode(object obj) => obj switch
        {
            bool b => b ? 1 : 0,
            long l => l.GetHashCode(),
            System.Numerics.BigInteger big => big.GetHashCode(),
            double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => ((long)d).GetHashCode(),
            PyTuple t => t.Items.Aggregate(17, (h, x) => (h * 31) + (x == null ? 0 : GetHashCode(x))),
            _ => obj.GetHashCode(),
        };
    }
}

/// <summary>The object returned by namespace(): attributes assignable with {% set ns.x = ... %}.</summary>
internal sealed class Namespace
{
    public PyDict Attributes { get; } = new();
}

/// <summary>A function value callable from templates.</summary>
internal interface ICallable
{
    object? Call(Interpreter interpreter, List<object?> args, List<KeyValuePair<string, object?>> kwargs, int offset);
}

internal sealed class BuiltinFunction(string name, Func<Interpreter, List<object?>, List<KeyValuePair<string, object?>>, int, object?> body) : ICallable
{
    public string Name { get; } = name;

    public object? Call(Interpreter interpreter, List<object?> args, List<KeyValuePair<string, object?>> kwargs, int offset) =>
        body(interpreter, args, kwargs, offset);
}

/// <summary>The "loop" variable inside a for loop.</summary>
internal sealed class LoopContext(IReadOnlyList<object?> items, int depth0) : ICallable
{
    /// <summary>Set for "recursive" loops: renders the loop body over new items one level deeper.</summary>
    public Func<object?, string>? Recurse { get; init; }

    public object? Call(Interpreter interpreter, List<object?> args, List<KeyValuePair<string, object?>> kwargs, int offset) =>
        Recurse == null
            ? throw new TemplateRuntimeException("The loop must have the 'recursive' marker to be called recursively.")
            : Recurse(args.Count > 0 ? args[0] : throw new TemplateRuntimeException("loop() takes exactly one argument"));

    private object? _lastChanged = Undefined.WithHint("no previous value");
    private bool _hasLastChanged;

    public int Index0 { get; set; }

    public int Depth0 { get; } = depth0;

    public IReadOnlyList<object?> Items { get; } = items;

    public object? GetAttribute(string name) => name switch
    {
        "index0" => (long)Index0,
        "index" => (long)Index0 + 1,
        "revindex" => (long)(Items.Count - Index0),
        "revindex0" => (long)(Items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == Items.Count - 1,
        "length" => (long)Items.Count,
        "depth" => (long)Depth0 + 1,
        "depth0" => (long)Depth0,
        "previtem" => Index0 > 0 ? Items[Index0 - 1] : Undefined.WithHint("there is no previous item"),
        "nextitem" => Index0 + 1 < Items.Count ? Items[Index0 + 1] : Undefined.WithHint("there is no next item"),
        "cycle" => new BuiltinFunction("cycle", (_, args, _, _) =>
            args.Count == 0 ? throw new TemplateRuntimeException("no items for cycling given") : args[Index0 % args.Count]),
        "changed" => new BuiltinFunction("changed", (_, args, _, _) =>
        {
            var value = new PyTuple([.. args]);
            if (_hasLastChanged && PyOps.Equal(value, _lastChanged))
            {
                return false;
            }

            _hasLastChanged = true;
            _lastChanged = value;
            return true;
        }),
        _ => Undefined.ForMember(this, name),
    };
}

/// <summary>A render-time error; the interpreter adds the template position.</summary>
internal class TemplateRuntimeException(string message) : Exception(message);

/// <summary>raise_exception(msg) from the template.</summary>
internal sealed class TemplateRaisedException(string message) : TemplateRuntimeException(message);

/// <summary>
/// A one-shot Python iterator: what jinja2's select/map/unique/items filters (generators) and
/// reverse (list_reverseiterator) return. Always truthy, has no len(), and is empty once consumed.
/// </summary>
internal sealed class PyIterator(string typeName, string producer, Func<IEnumerable<object?>> source)
{
    private List<object?>? _items;
    private int _next;

    public string TypeName { get; } = typeName;

    public string Producer { get; } = producer;

    // Generators run lazily: a bad input only fails when the result is consumed, as in Python.
    private List<object?> Items => _items ??= source().ToList();

    /// <summary>Takes every remaining item.</summary>
    public List<object?> Drain()
    {
        var rest = Items.GetRange(_next, Items.Count - _next);
        _next = Items.Count;
        return rest;
    }

    /// <summary>Python next(): the next item, or false when exhausted.</summary>
    public bool TryNext(out object? item)
    {
        if (_next < Items.Count)
        {
            item = Items[_next++];
            return true;
        }

        item = null;
        return false;
    }
}

/// <summary>A re-iterable Python sequence object that prints as itself: dict views and range.</summary>
internal sealed class PyView(string typeName, string repr, List<object?> items, bool subscriptable) : IReadOnlyList<object?>
{
    public string TypeName { get; } = typeName;

    public string ReprText { get; } = repr;

    public bool Subscriptable { get; } = subscriptable;

    public List<object?> Items { get; } = items;

    public int Count => Items.Count;

    public object? this[int index] => Items[index];

    public IEnumerator<object?> GetEnumerator() => Items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => Items.GetEnumerator();
}
