using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>The builtin filters (jinja2 3.1 semantics) plus transformers' tojson.</summary>
internal static partial class Filters
{
    private delegate object? Filter(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter);

    private static readonly Dictionary<string, Filter> Table = new(StringComparer.Ordinal)
    {
        ["abs"] = (v, _, _, _) => v switch
        {
            long l => (object)Math.Abs(l),
            double d => (object)Math.Abs(d),
            bool b => b ? 1L : 0L,
            _ => throw new TemplateRuntimeException($"bad operand type for abs(): '{PyOps.TypeName(v)}'"),
        },
        ["attr"] = (v, a, _, _) => Members.GetPythonAttr(v, PyOps.Str(a[0])),
        ["batch"] = Batch,
        ["capitalize"] = (v, _, _, _) => PyCase.Capitalize(PyOps.Str(v)),
        ["center"] = (v, a, _, _) =>
        {
            var s = PyOps.Str(v);
            var width = a.Count > 0 ? (int)PyOps.ToLong(a[0]) : 80;
            var pad = width - PyOps.StringLength(s);
            return pad <= 0 ? s : new string(' ', (pad / 2) + (pad & width & 1)) + s + new string(' ', pad - ((pad / 2) + (pad & width & 1)));
        },
        ["count"] = (v, _, _, _) => PyOps.Length(v),
        ["length"] = (v, _, _, _) => PyOps.Length(v),
        ["d"] = Default,
        ["default"] = Default,
        ["dictsort"] = DictSort,
        ["e"] = (v, _, _, _) => Escape(v),
        ["escape"] = (v, _, _, _) => Escape(v),
        ["first"] = (v, _, _, _) =>
        {
            if (v is PyIterator it)
            {
                return it.TryNext(out var next) ? next : Undefined.WithHint("No first item, sequence was empty.");
            }

            var items = PyOps.Iterate(v);
            return items.Count > 0 ? items[0] : Undefined.WithHint("No first item, sequence was empty.");
        },
        ["last"] = (v, _, _, _) =>
        {
            if (v is not (string or List<object?> or PyTuple or PyDict or PyView or Undefined))
            {
                throw new TemplateRuntimeException($"'{PyOps.TypeName(v)}' object is not reversible");
            }

            var items = PyOps.Iterate(v);
            return items.Count > 0 ? items[^1] : Undefined.WithHint("No last item, sequence was empty.");
        },
        ["filesizeformat"] = FileSizeFormat,
        ["forceescape"] = (v, _, _, _) => Escape(v),
        ["groupby"] = GroupBy,
        ["urlencode"] = (v, _, _, _) => v switch
        {
            string or long or double or bool or null => UrlQuote(PyOps.Str(v), forQuery: false),
            PyDict d => string.Join('&', d.Items.Select(kv => UrlQuote(PyOps.Str(kv.Key), true) + "=" + UrlQuote(PyOps.Str(kv.Value), true))),
            _ => string.Join('&', PyOps.Iterate(v).Select(pair =>
            {
                var kv = PyOps.Iterate(pair);
                return UrlQuote(PyOps.Str(kv[0]), true) + "=" + UrlQuote(PyOps.Str(kv[1]), true);
            })),
        },
        ["float"] = (v, a, k, _) => ToFloat(v, Args.Bind("float", a, k, ["default"], [0.0])[0]),
        ["format"] = (v, a, k, _) => k.Count > 0
            ? PyFormat.Percent(PyOps.Str(v), DictFrom(k))
            : PyFormat.Percent(PyOps.Str(v), new PyTuple([.. a])),
        ["indent"] = Indent,
        ["int"] = (v, a, k, _) =>
        {
            var p = Args.Bind("int", a, k, ["default", "base"], [0L, 10L]);
            return ToInt(v, p[0], PyOps.ToLong(p[1]));
        },
        ["items"] = (v, _, _, _) => v switch
        {
            Undefined => new PyIterator("generator", "do_items", () => []),
            PyDict d => new PyIterator("generator", "do_items", () => d.Items.Select(kv => (object?)new PyTuple([kv.Key, kv.Value]))),
            // do_items is a generator function: the type error surfaces when the result is consumed.
            _ => new PyIterator("generator", "do_items", () => throw new TemplateRuntimeException("Can only get item pairs from a mapping.")),
        },
        ["join"] = Join,
        ["list"] = (v, _, _, _) => PyOps.Iterate(v).ToList(),
        ["lower"] = (v, _, _, _) => PyCase.Lower(PyOps.Str(v)),
        ["upper"] = (v, _, _, _) => PyCase.Upper(PyOps.Str(v)),
        ["map"] = Map,
        ["max"] = (v, a, k, i) => MinMax(v, a, k, i, max: true),
        ["min"] = (v, a, k, i) => MinMax(v, a, k, i, max: false),
        ["pprint"] = (v, _, _, _) => PyOps.Repr(v),
        ["reject"] = (v, a, k, i) => Select(v, a, k, i, byAttribute: false, keep: false),
        ["rejectattr"] = (v, a, k, i) => Select(v, a, k, i, byAttribute: true, keep: false),
        ["select"] = (v, a, k, i) => Select(v, a, k, i, byAttribute: false, keep: true),
        ["selectattr"] = (v, a, k, i) => Select(v, a, k, i, byAttribute: true, keep: true),
        ["replace"] = (v, a, k, _) =>
        {
            var p = Args.Bind("replace", a, k, ["old", "new", "count"], [Args.Required, Args.Required, null]);
            return PyStrings.Replace(PyOps.Str(v), PyOps.Str(p[0]), PyOps.Str(p[1]), p[2] == null ? -1 : PyOps.ToLong(p[2]));
        },
        ["reverse"] = (v, _, _, _) => v switch
        {
            string s => string.Concat(PyStrings.Runes(s).Reverse()),
            List<object?> or PyTuple or PyView => new PyIterator(
                v is PyView { TypeName: "range" } ? "range_iterator" : v is PyView ? "dict_reversekeyiterator" : "list_reverseiterator",
                "reversed",
                () => PyOps.Iterate(v).AsEnumerable().Reverse()),
            PyDict d => new PyIterator("dict_reversekeyiterator", "reversed", () => d.Keys.Reverse()),
            Undefined => new PyIterator("reversed", "reversed", () => []),
            _ => PyOps.Iterate(v).AsEnumerable().Reverse().ToList(),
        },
        ["round"] = Round,
        ["safe"] = (v, _, _, _) => PyOps.Str(v), // Markup(value) is a string
        ["slice"] = SliceFilter,
        ["sort"] = Sort,
        ["split"] = (v, a, k, _) =>
        {
            var p = Args.Bind("split", a, k, ["sep", "maxsplit"], [null, -1L]);
            return PyStrings.Split(PyOps.Str(v), p[0], PyOps.ToLong(p[1]));
        },
        ["string"] = (v, _, _, _) => PyOps.Str(v),
        ["striptags"] = (v, _, _, _) => string.Join(' ', Regex.Replace(PyOps.Str(v), "<!--.*?-->|<[^>]*>", "", RegexOptions.Singleline)
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)),
        ["sum"] = Sum,
        ["title"] = (v, _, _, _) => TitleFilter(PyOps.Str(v)),
        ["tojson"] = ToJson,
        ["trim"] = (v, a, k, _) => PyStrings.Strip(PyOps.Str(v), Args.Bind("trim", a, k, ["chars"], [null])[0], true, true),
        ["truncate"] = Truncate,
        ["unique"] = (v, a, k, _) => new PyIterator("generator", "do_unique", () =>
        {
            var result = new List<object?>();
            foreach (var item in PyOps.Iterate(v))
            {
                if (!result.Any(x => PyOps.Equal(FoldCase(x), FoldCase(item))))
                {
                    result.Add(item);
                }
            }

            return result;
        }),
        ["wordcount"] = (v, _, _, _) => (long)Regex.Matches(PyOps.Str(v), @"\w+").Count,
        ["xmlattr"] = (v, _, _, _) => v is PyDict d
            ? string.Concat(d.Items.Where(kv => kv.Value is not null and not Undefined)
                .Select(kv => $" {PyOps.Str(kv.Key)}=\"{Escape(kv.Value)}\""))
            : throw new TemplateRuntimeException("xmlattr needs a mapping"),
    };

    public static bool Exists(string name) => Table.ContainsKey(name);

    public static object? Apply(string name, object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        if (!Table.TryGetValue(name, out var filter))
        {
            throw new TemplateRuntimeException($"No filter named '{name}' found.");
        }

        return filter(value, args, kwargs, interpreter);
    }

    private static PyDict DictFrom(List<KeyValuePair<string, object?>> kwargs)
    {
        var dict = new PyDict();
        foreach (var (k, v) in kwargs)
        {
            dict.Set(k, v);
        }

        return dict;
    }

    private static object? FoldCase(object? value) => value is string s ? PyCase.Lower(s) : value;

    private static object? Default(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var p = Args.Bind("default", args, kwargs, ["default_value", "boolean"], ["", false]);
        return value is Undefined || (PyOps.IsTruthy(p[1]) && !PyOps.IsTruthy(value)) ? p[0] : value;
    }

    private static string Escape(object? value) => PyOps.Str(value)
        .Replace("&", "&amp;").Replace(">", "&gt;").Replace("<", "&lt;").Replace("'", "&#39;").Replace("\"", "&#34;");

    private static object? ToJson(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var p = Args.Bind("tojson", args, kwargs, ["ensure_ascii", "indent", "separators", "sort_keys"], [false, null, null, false]);
        var itemSep = p[1] == null ? ", " : ",";
        var keySep = ": ";
        if (p[2] != null)
        {
            var seps = PyOps.Iterate(p[2]);
            itemSep = PyOps.Str(seps[0]);
            keySep = PyOps.Str(seps[1]);
        }

        return JsonDump.Dumps(value, p[1], itemSep, keySep, PyOps.IsTruthy(p[3]), PyOps.IsTruthy(p[0]));
    }

    private static object? Join(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var p = Args.Bind("join", args, kwargs, ["d", "attribute"], ["", null]);
        var items = PyOps.Iterate(value);
        if (p[1] != null)
        {
            items = items.Select(x => Attribute(x, p[1])).ToList();
        }

        return string.Join(PyOps.Str(p[0]), items.Select(PyOps.Str));
    }

    // Attribute lookup for map/selectattr/sort: "a.b" walks nested attributes, integers index.
    private static object? Attribute(object? item, object? attribute)
    {
        if (attribute is long index)
        {
            return Members.GetItem(item, index);
        }

        foreach (var part in PyOps.Str(attribute).Split('.'))
        {
            item = int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var i)
                ? Members.GetItem(item, (long)i)
                : Members.GetItem(item, part);
        }

        return item;
    }

    private static object? Map(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var attribute = kwargs.FirstOrDefault(kv => kv.Key == "attribute");
        if (attribute.Key != null)
        {
            var fallback = kwargs.FirstOrDefault(kv => kv.Key == "default");
            return new PyIterator("generator", "sync_do_map", () => IterateIfTruthy(value).Select(x =>
            {
                var result = Attribute(x, attribute.Value);
                return result is Undefined && fallback.Key != null ? fallback.Value : result;
            }));
        }

        if (args.Count == 0)
        {
            throw new TemplateRuntimeException("map requires a filter argument");
        }

        var name = PyOps.Str(args[0]);
        var rest = args.Skip(1).ToList();
        return new PyIterator("generator", "sync_do_map", () => IterateIfTruthy(value).Select(x => Apply(name, x, rest, kwargs, interpreter)));
    }

    // map and select/reject start with "if value:", so a falsy non-iterable yields nothing.
    private static List<object?> IterateIfTruthy(object? value) => PyOps.IsTruthy(value) ? PyOps.Iterate(value) : [];

    private static object? Select(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter, bool byAttribute, bool keep)
    {
        var offset = byAttribute ? 1 : 0;
        var attribute = byAttribute ? args[0] : null;
        string? test = args.Count > offset ? PyOps.Str(args[offset]) : null;
        var testArgs = args.Skip(offset + 1).ToList();
        return new PyIterator("generator", "select_or_reject", () => IterateIfTruthy(value).Where(item =>
        {
            var subject = byAttribute ? Attribute(item, attribute) : item;
            var passed = test == null ? PyOps.IsTruthy(subject) : Tests.Apply(test, subject, testArgs, kwargs, interpreter);
            return passed == keep;
        }));
    }

    private static object? MinMax(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter, bool max)
    {
        var p = Args.Bind(max ? "max" : "min", args, kwargs, ["case_sensitive", "attribute"], [false, null]);
        var items = PyOps.Iterate(value);
        if (items.Count == 0)
        {
            return Undefined.WithHint($"No aggregated item, sequence was empty.");
        }

        object? Key(object? x)
        {
            var k = p[1] != null ? Attribute(x, p[1]) : x;
            return PyOps.IsTruthy(p[0]) ? k : FoldCase(k);
        }

        var best = items[0];
        foreach (var item in items.Skip(1))
        {
            var c = PyOps.Compare(Key(item), Key(best), "<");
            if (max ? c > 0 : c < 0)
            {
                best = item;
            }
        }

        return best;
    }

    private static object? Sort(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var p = Args.Bind("sort", args, kwargs, ["reverse", "case_sensitive", "attribute"], [false, false, null]);
        var items = PyOps.Iterate(value).ToList();
        object? Key(object? x)
        {
            var k = p[2] != null ? Attribute(x, p[2]) : x;
            return PyOps.IsTruthy(p[1]) ? k : FoldCase(k);
        }

        var keyed = items.Select(x => (Key: Key(x), Item: x)).ToList();
        var sorted = keyed.OrderBy(x => x.Key, Comparer<object?>.Create((a, b) => PyOps.Compare(a, b, "<"))).ToList();
        if (PyOps.IsTruthy(p[0]))
        {
            sorted = keyed.OrderByDescending(x => x.Key, Comparer<object?>.Create((a, b) => PyOps.Compare(a, b, "<"))).ToList();
        }

        return sorted.Select(x => x.Item).ToList();
    }

    private static object? DictSort(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var p = Args.Bind("dictsort", args, kwargs, ["case_sensitive", "by", "reverse"], [false, "key", false]);
        if (value is not PyDict dict)
        {
            throw new TemplateRuntimeException($"'{PyOps.TypeName(value)}' object has no attribute 'items'");
        }

        var byValue = PyOps.Str(p[1]) == "value";
        var comparer = Comparer<object?>.Create((a, b) => PyOps.Compare(a, b, "<"));
        var pairs = dict.Items.Select(kv => (Key: PyOps.IsTruthy(p[0]) ? (byValue ? kv.Value : kv.Key) : FoldCase(byValue ? kv.Value : kv.Key), Pair: kv));
        var ordered = PyOps.IsTruthy(p[2]) ? pairs.OrderByDescending(x => x.Key, comparer) : pairs.OrderBy(x => x.Key, comparer);
        return ordered.Select(x => (object?)new PyTuple([x.Pair.Key, x.Pair.Value])).ToList();
    }

    private static object? GroupBy(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var p = Args.Bind("groupby", args, kwargs, ["attribute", "default", "case_sensitive"], [Args.Required, null, false]);
        var caseSensitive = PyOps.IsTruthy(p[2]);
        object? Key(object? item)
        {
            var key = Attribute(item, p[0]);
            if (key is Undefined && p[1] != null)
            {
                key = p[1];
            }

            return caseSensitive ? key : FoldCase(key);
        }

        var comparer = Comparer<object?>.Create((a, b) => PyOps.Compare(a, b, "<"));
        var groups = new List<object?>();
        List<object?>? current = null;
        object? currentKey = null;
        foreach (var item in PyOps.Iterate(value).OrderBy(Key, comparer))
        {
            var key = Key(item);
            if (current == null || !PyOps.Equal(key, currentKey))
            {
                current = [];
                currentKey = key;
                // The group shows the first item's own key, not the case-folded one.
                var shown = Attribute(item, p[0]);
                groups.Add(new PyTuple([shown is Undefined && p[1] != null ? p[1] : shown, current], ["grouper", "list"]));
            }

            current.Add(item);
        }

        return groups;
    }

    // urllib.parse.quote: keep unreserved characters (and "/" outside query strings), percent-encode UTF-8 bytes.
    private static string UrlQuote(string text, bool forQuery)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '~' || (c == '/' && !forQuery))
            {
                sb.Append(c);
            }
            else if (c == ' ' && forQuery)
            {
                sb.Append('+');
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static object? FileSizeFormat(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var binary = PyOps.IsTruthy(Args.Bind("filesizeformat", args, kwargs, ["binary"], [false])[0]);
        var bytes = value is string s ? double.Parse(s, CultureInfo.InvariantCulture) : value is double d ? d : (double)PyOps.ToBig(value);
        var unitBase = binary ? 1024.0 : 1000.0;
        string[] prefixes = binary
            ? ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
            : ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
        if (bytes == 1)
        {
            return "1 Byte";
        }

        if (bytes < unitBase)
        {
            return $"{(long)bytes} Bytes";
        }

        var unit = 0.0;
        for (var i = 0; i < prefixes.Length; i++)
        {
            unit = Math.Pow(unitBase, i + 2);
            if (bytes < unit || i == prefixes.Length - 1)
            {
                return (unitBase * bytes / unit).ToString("F1", CultureInfo.InvariantCulture) + " " + prefixes[i];
            }
        }

        return (unitBase * bytes / unit).ToString("F1", CultureInfo.InvariantCulture) + " " + prefixes[^1];
    }

    private static object? Sum(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var p = Args.Bind("sum", args, kwargs, ["attribute", "start"], [null, 0L]);
        var total = p[1];
        foreach (var item in PyOps.Iterate(value))
        {
            total = Arithmetic.Binary("+", total, p[0] != null ? Attribute(item, p[0]) : item);
        }

        return total;
    }

    private static object? Round(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var p = Args.Bind("round", args, kwargs, ["precision", "method"], [0L, "common"]);
        var digits = (int)PyOps.ToLong(p[0]);
        if (PyOps.IsInt(value) && PyOps.Str(p[1]) == "common" && digits >= 0)
        {
            // Python's round(int, n) stays an int.
            return PyOps.NormalizeInt(PyOps.ToBig(value));
        }

        var x = value switch
        {
            double d => d,
            long or bool => PyOps.ToLong(value),
            _ => throw new TemplateRuntimeException($"type {PyOps.TypeName(value)} doesn't define __round__ method"),
        };
        var scale = Math.Pow(10, digits);
        return PyOps.Str(p[1]) switch
        {
            "ceil" => Math.Ceiling(x * scale) / scale,
            "floor" => Math.Floor(x * scale) / scale,
            _ => Math.Round(x, digits, MidpointRounding.ToEven), // Python's round() is half-to-even
        };
    }

    private static object? Indent(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var p = Args.Bind("indent", args, kwargs, ["width", "first", "blank"], [4L, false, false]);
        var indent = p[0] is string s ? s : new string(' ', (int)PyOps.ToLong(p[0]));
        var text = value switch
        {
            string str => str + "\n",
            Undefined u => throw new TemplateRuntimeException(u.Message),
            // jinja2 does `s += "\n"` and then s.splitlines(), so a list fails on the second step.
            List<object?> => throw new TemplateRuntimeException("'list' object has no attribute 'splitlines'"),
            _ => throw new TemplateRuntimeException($"unsupported operand type(s) for +=: '{PyOps.TypeName(value)}' and 'str'"),
        };
        var lines = text.Split('\n').ToList();
        lines.RemoveAt(lines.Count - 1);
        var sb = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            if (i > 0)
            {
                sb.Append('\n');
            }

            var line = lines[i];
            var addIndent = i == 0 ? PyOps.IsTruthy(p[1]) : PyOps.IsTruthy(p[2]) || line.Length > 0;
            sb.Append(addIndent ? indent + line : line);
        }

        return sb.ToString();
    }

    private static object? Truncate(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var p = Args.Bind("truncate", args, kwargs, ["length", "killwords", "end", "leeway"], [255L, false, "...", 5L]);
        var s = PyOps.Str(value);
        var length = (int)PyOps.ToLong(p[0]);
        var end = PyOps.Str(p[2]);
        if (s.Length <= length + PyOps.ToLong(p[3]))
        {
            return s;
        }

        if (PyOps.IsTruthy(p[1]))
        {
            return s[..(length - end.Length)] + end;
        }

        var cut = s[..(length - end.Length)];
        var space = cut.LastIndexOf(' ');
        return (space >= 0 ? cut[..space] : cut) + end;
    }

    private static object? Batch(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var size = (int)PyOps.ToLong(args[0]);
        var fill = args.Count > 1 ? args[1] : null;
        return new PyIterator("generator", "do_batch", () => BatchItems(value, size, fill, args.Count > 1));
    }

    private static List<object?> BatchItems(object? value, int size, object? fill, bool hasFill)
    {
        var result = new List<object?>();
        var items = PyOps.Iterate(value);
        for (var i = 0; i < items.Count; i += size)
        {
            var chunk = items.Skip(i).Take(size).ToList();
            if (chunk.Count < size && hasFill)
            {
                chunk.AddRange(Enumerable.Repeat(fill, size - chunk.Count));
            }

            result.Add(chunk);
        }

        return result;
    }

    private static object? SliceFilter(object? value, List<object?> args, List<KeyValuePair<string, object?>> kwargs, Interpreter interpreter)
    {
        var slices = (int)PyOps.ToLong(args[0]);
        return new PyIterator("generator", "sync_do_slice", () => SliceItems(value, slices, args.Count > 1, args.Count > 1 ? args[1] : null));
    }

    private static List<object?> SliceItems(object? value, int slices, bool hasFill, object? fill)
    {
        var items = PyOps.Iterate(value);
        var perSlice = items.Count / slices;
        var withExtra = items.Count % slices;
        var result = new List<object?>();
        var offset = 0;
        for (var i = 0; i < slices; i++)
        {
            var count = perSlice + (i < withExtra ? 1 : 0);
            var chunk = items.Skip(offset).Take(count).ToList();
            offset += count;
            if (i >= withExtra && hasFill && withExtra > 0)
            {
                chunk.Add(fill);
            }

            result.Add(chunk);
        }

        return result;
    }

    private static object? ToFloat(object? value, object? fallback) => value switch
    {
        Undefined u => throw new TemplateRuntimeException(u.Message),
        double d => d,
        long or bool => (double)PyOps.ToLong(value),
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => fallback,
    };

    private static object? ToInt(object? value, object? fallback, long numberBase) => value switch
    {
        Undefined u => throw new TemplateRuntimeException(u.Message),
        long or bool or System.Numerics.BigInteger => value is bool ? PyOps.ToLong(value) : value,
        double d when double.IsFinite(d) => PyOps.NormalizeInt(new System.Numerics.BigInteger(Math.Truncate(d))),
        string s when numberBase == 10 && long.TryParse(s.Trim().Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
        string s when numberBase == 16 && long.TryParse(s.Trim().Replace("0x", "").Replace("0X", ""), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var h) => h,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => (long)Math.Truncate(d),
        _ => fallback,
    };

    // jinja2's title filter: capitalize each word, where words start after whitespace, "-", or an opening bracket.
    private static string TitleFilter(string s)
    {
        var parts = Regex.Split(s, @"([-\s\(\{\[\<]+)");
        return string.Concat(parts.Where(x => x.Length > 0).Select(x => PyCase.Upper(x[..1]) + PyCase.Lower(x[1..])));
    }
}
