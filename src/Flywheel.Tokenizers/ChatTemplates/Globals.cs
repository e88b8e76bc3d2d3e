namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// Global functions: jinja2's range, dict, namespace, cycler and joiner, plus the two transformers adds:
/// raise_exception(msg) and strftime_now(format).
/// </summary>
internal static class Globals
{
    private static readonly Dictionary<string, object> Table = new(StringComparer.Ordinal)
    {
        ["range"] = new BuiltinFunction("range", (_, a, _, _) => Range(a)),
        ["dict"] = new BuiltinFunction("dict", (_, a, k, _) =>
        {
            var dict = new PyDict();
            if (a.Count > 0 && a[0] is PyDict source)
            {
                foreach (var (key, value) in source.Items)
                {
                    dict.Set(key, value);
                }
            }

            foreach (var (key, value) in k)
            {
                dict.Set(key, value);
            }

            return dict;
        }),
        ["namespace"] = new BuiltinFunction("namespace", (_, a, k, _) =>
        {
            var ns = new Namespace();
            if (a.Count > 0 && a[0] is PyDict source)
            {
                foreach (var (key, value) in source.Items)
                {
                    ns.Attributes.Set(key, value);
                }
            }

            foreach (var (key, value) in k)
            {
                ns.Attributes.Set(key, value);
            }

            return ns;
        }),
        ["joiner"] = new BuiltinFunction("joiner", (_, a, _, _) =>
        {
            var separator = a.Count > 0 ? PyOps.Str(a[0]) : ", ";
            var used = false;
            return new BuiltinFunction("joiner", (_, _, _, _) =>
            {
                var result = used ? separator : "";
                used = true;
                return result;
            });
        }),
        ["cycler"] = new BuiltinFunction("cycler", (_, a, _, _) =>
        {
            var index = 0;
            var ns = new Namespace();
            ns.Attributes.Set("next", new BuiltinFunction("next", (_, _, _, _) => a[index++ % a.Count]));
            return ns;
        }),
        ["raise_exception"] = new BuiltinFunction("raise_exception", (_, a, _, _) =>
            throw new TemplateRaisedException(a.Count > 0 ? PyOps.Str(a[0]) : "")),
        ["strftime_now"] = new BuiltinFunction("strftime_now", (interpreter, a, _, _) =>
            PyFormat.Strftime(interpreter.Now, PyOps.Str(a[0]))),
    };

    public static bool TryGet(string name, out object? value)
    {
        var found = Table.TryGetValue(name, out var v);
        value = v;
        return found;
    }

    private static PyView Range(List<object?> args)
    {
        long start = 0;
        long stop;
        long step = 1;
        switch (args.Count)
        {
            case 1:
                stop = PyOps.ToLong(args[0]);
                break;
            case 2:
                start = PyOps.ToLong(args[0]);
                stop = PyOps.ToLong(args[1]);
                break;
            case 3:
                start = PyOps.ToLong(args[0]);
                stop = PyOps.ToLong(args[1]);
                step = PyOps.ToLong(args[2]);
                break;
            default:
                throw new TemplateRuntimeException($"range expected at most 3 arguments, got {args.Count}");
        }

        if (step == 0)
        {
            throw new TemplateRuntimeException("range() arg 3 must not be zero");
        }

        var result = new List<object?>();
        for (var i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= 100_000)
            {
                // jinja2's sandbox caps range() at MAX_RANGE = 100000 items.
                throw new TemplateRuntimeException("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
            }

            result.Add(i);
        }

        var repr = step == 1 ? $"range({start}, {stop})" : $"range({start}, {stop}, {step})";
        return new PyView("range", repr, result, subscriptable: true);
    }
}
