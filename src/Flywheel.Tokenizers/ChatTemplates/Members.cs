namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// Attribute and item access with jinja2's sandbox rules: obj.name tries the Python attribute
/// (methods) then the item; obj[key] tries the item then the attribute. Misses give Undefined.
/// </summary>
internal static class Members
{
    // ImmutableSandboxedEnvironment refuses the methods that modify a list or dict in place.
    private static readonly HashSet<string> ListMutators = ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"];

    private static readonly HashSet<string> DictMutators = ["clear", "pop", "popitem", "setdefault", "update"];

    public static object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u:
                throw new TemplateRuntimeException(u.Message);
            case Namespace ns:
                return ns.Attributes.TryGet(name, out var attr) ? attr : Undefined.ForMember(obj, name);
            case LoopContext loop:
                return loop.GetAttribute(name);
            case PyTuple { FieldNames: { } names } tuple when Array.IndexOf(names, name) >= 0:
                return tuple[Array.IndexOf(names, name)];
        }

        var method = GetMethod(obj, name);
        if (method != null)
        {
            return method;
        }

        if (obj is PyDict dict && dict.TryGet(name, out var value))
        {
            return value;
        }

        return Undefined.ForMember(obj, name);
    }

    /// <summary>Python getattr only (the attr filter): methods and namespace/loop attributes, never dict items.</summary>
    public static object? GetPythonAttr(object? obj, string name) => obj switch
    {
        Undefined u => throw new TemplateRuntimeException(u.Message),
        Namespace or LoopContext or PyTuple { FieldNames: not null } => GetAttr(obj, name),
        _ => (object?)GetMethod(obj, name) ?? Undefined.ForMember(obj, name),
    };

    public static object? GetItem(object? obj, object? key)
    {
        switch (obj)
        {
            case Undefined u:
                throw new TemplateRuntimeException(u.Message);
            case PyDict dict:
                if (dict.TryGet(key, out var value))
                {
                    return value;
                }

                break;
            case List<object?> or PyTuple or PyView { Subscriptable: true } when key is long or bool:
                var list = (IReadOnlyList<object?>)obj;
                var index = PyOps.ToLong(key);
                if (index < 0)
                {
                    index += list.Count;
                }

                if (index >= 0 && index < list.Count)
                {
                    return list[(int)index];
                }

                break;
            case string s when key is long or bool:
                var runes = PyStrings.Runes(s);
                var i = PyOps.ToLong(key);
                if (i < 0)
                {
                    i += runes.Length;
                }

                if (i >= 0 && i < runes.Length)
                {
                    return runes[i];
                }

                break;
        }

        if (key is string attrName)
        {
            if (obj is Namespace or LoopContext)
            {
                return GetAttr(obj, attrName);
            }

            var method = GetMethod(obj, attrName);
            if (method != null)
            {
                return method;
            }
        }

        return Undefined.ForMember(obj, key);
    }

    /// <summary>Python slicing obj[start:stop:step] for str, list and tuple.</summary>
    public static object? Slice(object? obj, object? start, object? stop, object? step, bool undefinedOnFailure = false)
    {
        if (obj is Undefined u)
        {
            throw new TemplateRuntimeException(u.Message);
        }

        var stepValue = step == null ? 1 : ToIndex(step);
        if (stepValue == 0)
        {
            throw new TemplateRuntimeException("slice step cannot be zero");
        }

        switch (obj)
        {
            case string s:
                var runes = PyStrings.Runes(s);
                return string.Concat(SliceIndices(runes.Length, start, stop, stepValue).Select(i => runes[i]));
            case List<object?> list:
                return SliceIndices(list.Count, start, stop, stepValue).Select(i => list[i]).ToList();
            case PyTuple tuple:
                return new PyTuple([.. SliceIndices(tuple.Count, start, stop, stepValue).Select(i => tuple[i])]);
            case PyView { Subscriptable: true } view:
                return SliceIndices(view.Count, start, stop, stepValue).Select(i => view[i]).ToList();
            default:
                if (undefinedOnFailure)
                {
                    return Undefined.ForMember(obj, new PySlice(start, stop, step));
                }

                throw new TemplateRuntimeException(obj is PyDict ? "unhashable type: 'slice'" : $"'{PyOps.TypeName(obj)}' object is not subscriptable");
        }
    }

    private static long ToIndex(object? value) => value switch
    {
        long or bool => PyOps.ToLong(value),
        _ => throw new TemplateRuntimeException("slice indices must be integers or None or have an __index__ method"),
    };

    private static IEnumerable<int> SliceIndices(int length, object? start, object? stop, long step)
    {
        long lo;
        long hi;
        if (step > 0)
        {
            lo = start == null ? 0 : Clamp(ToIndex(start), length, 0, length);
            hi = stop == null ? length : Clamp(ToIndex(stop), length, 0, length);
            for (var i = lo; i < hi; i += step)
            {
                yield return (int)i;
            }
        }
        else
        {
            lo = start == null ? length - 1 : Clamp(ToIndex(start), length, -1, length - 1);
            hi = stop == null ? -1 : Clamp(ToIndex(stop), length, -1, length - 1);
            for (var i = lo; i > hi; i += step)
            {
                yield return (int)i;
            }
        }
    }

    private static long Clamp(long index, int length, long min, long max)
    {
        if (index < 0)
        {
            index += length;
        }

        return Math.Clamp(index, min, max);
    }

    /// <summary>A bound method such as "abc".upper or d.items, or null when the type has none.</summary>
    public static ICallable? GetMethod(object? obj, string name)
    {
        if (name.StartsWith('_'))
        {
            return null;
        }

        if ((obj is List<object?> && ListMutators.Contains(name)) || (obj is PyDict && DictMutators.Contains(name)))
        {
            return new BuiltinFunction(name, (_, _, _, _) =>
                throw new TemplateRuntimeException($"access to attribute '{name}' of '{PyOps.TypeName(obj)}' object is unsafe."));
        }

        return obj switch
        {
            string s => PyStrings.GetMethod(s, name),
            PyDict d => DictMethod(d, name),
            List<object?> or PyTuple => SequenceMethod((IReadOnlyList<object?>)obj, name),
            _ => null,
        };
    }

    private static BuiltinFunction? DictMethod(PyDict dict, string name) => name switch
    {
        "get" => new BuiltinFunction(name, (_, args, kwargs, _) =>
        {
            var a = Args.Bind(name, args, kwargs, ["key", "default"], [Args.Required, null]);
            return dict.TryGet(a[0], out var value) ? value : a[1];
        }),
        "items" => new BuiltinFunction(name, (_, _, _, _) =>
            View("dict_items", dict.Items.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList())),
        "keys" => new BuiltinFunction(name, (_, _, _, _) => View("dict_keys", dict.Keys.ToList())),
        "values" => new BuiltinFunction(name, (_, _, _, _) => View("dict_values", dict.Values.ToList())),
        "copy" => new BuiltinFunction(name, (_, _, _, _) =>
        {
            var copy = new PyDict();
            foreach (var (k, v) in dict.Items)
            {
                copy.Set(k, v);
            }

            return copy;
        }),
        _ => null,
    };

    private static PyView View(string typeName, List<object?> items) =>
        new(typeName, $"{typeName}({PyOps.Repr(items)})", items, subscriptable: false);

    private static BuiltinFunction? SequenceMethod(IReadOnlyList<object?> list, string name) => name switch
    {
        "index" => new BuiltinFunction(name, (_, args, _, _) =>
        {
            for (var i = 0; i < list.Count; i++)
            {
                if (PyOps.Equal(list[i], args[0]))
                {
                    return (long)i;
                }
            }

            throw new TemplateRuntimeException($"{PyOps.Repr(args[0])} is not in list");
        }),
        "count" => new BuiltinFunction(name, (_, args, _, _) => (long)list.Count(x => PyOps.Equal(x, args[0]))),
        "copy" when list is List<object?> l => new BuiltinFunction(name, (_, _, _, _) => l.ToList()),
        _ => null,
    };
}
