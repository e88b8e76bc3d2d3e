using System.Text;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>Python str methods callable from templates ("x".strip(), .split(), .startswith(), ...).</summary>
internal static class PyStrings
{
    public static string[] Runes(string s) => [.. s.EnumerateRunes().Select(r => r.ToString())];

    /// <summary>Python str.isspace for one character (includes \x1c-\x1f, unlike .NET).</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    public static string Strip(string s, object? chars, bool left, bool right)
    {
        Func<char, bool> strip = chars switch
        {
            null => IsSpace,
            string set => set.Contains,
            Undefined => IsSpace,
            _ => throw new TemplateRuntimeException("strip arg must be None or str"),
        };
        var start = 0;
        var end = s.Length;
        if (left)
        {
            while (start < end && strip(s[start]))
            {
                start++;
            }
        }

        if (right)
        {
            while (end > start && strip(s[end - 1]))
            {
                end--;
            }
        }

        return s[start..end];
    }

    public static List<object?> Split(string s, object? sep, long maxSplit)
    {
        var result = new List<object?>();
        if (sep is null)
        {
            var i = 0;
            while (true)
            {
                while (i < s.Length && IsSpace(s[i]))
                {
                    i++;
                }

                if (i >= s.Length)
                {
                    break;
                }

                if (maxSplit >= 0 && result.Count >= maxSplit)
                {
                    result.Add(s[i..].TrimEnd());
                    break;
                }

                var start = i;
                while (i < s.Length && !IsSpace(s[i]))
                {
                    i++;
                }

                result.Add(s[start..i]);
            }

            return result;
        }

        if (sep is not string separator)
        {
            throw new TemplateRuntimeException($"must be str or None, not {PyOps.TypeName(sep)}");
        }

        if (separator.Length == 0)
        {
            throw new TemplateRuntimeException("empty separator");
        }

        var pos = 0;
        while (maxSplit < 0 || result.Count < maxSplit)
        {
            var next = s.IndexOf(separator, pos, StringComparison.Ordinal);
            if (next < 0)
            {
                break;
            }

            result.Add(s[pos..next]);
            pos = next + separator.Length;
        }

        result.Add(s[pos..]);
        return result;
    }

    private static List<object?> RSplit(string s, object? sep, long maxSplit)
    {
        if (maxSplit < 0)
        {
            return Split(s, sep, -1);
        }

        if (sep is not string separator || separator.Length == 0)
        {
            var words = Split(s, null, -1);
            if (words.Count <= maxSplit + 1)
            {
                return words;
            }

            // Keep the leading text joined: find where the last maxSplit words begin.
            var end = s.Length;
            var tail = new List<object?>();
            for (var k = 0; k < maxSplit; k++)
            {
                while (end > 0 && IsSpace(s[end - 1]))
                {
                    end--;
                }

                var start = end;
                while (start > 0 && !IsSpace(s[start - 1]))
                {
                    start--;
                }

                tail.Insert(0, s[start..end]);
                end = start;
            }

            tail.Insert(0, s[..end].Trim());
            return tail;
        }

        var result = new List<object?>();
        var pos = s.Length;
        while (result.Count < maxSplit)
        {
            var next = pos - separator.Length < 0 ? -1 : s.LastIndexOf(separator, pos - separator.Length, StringComparison.Ordinal);
            if (next < 0)
            {
                break;
            }

            result.Insert(0, s[(next + separator.Length)..pos]);
            pos = next;
        }

        result.Insert(0, s[..pos]);
        return result;
    }

    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0)
        {
            count = long.MaxValue;
        }

        if (old.Length == 0)
        {
            var sb = new StringBuilder();
            var runes = Runes(s);
            long done = 0;
            foreach (var r in runes)
            {
                if (done < count)
                {
                    sb.Append(replacement);
                    done++;
                }

                sb.Append(r);
            }

            if (done < count)
            {
                sb.Append(replacement);
            }

            return sb.ToString();
        }

        var result = new StringBuilder();
        var pos = 0;
        long replaced = 0;
        while (replaced < count)
        {
            var next = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (next < 0)
            {
                break;
            }

            result.Append(s, pos, next - pos).Append(replacement);
            pos = next + old.Length;
            replaced++;
        }

        result.Append(s, pos, s.Length - pos);
        return result.ToString();
    }

    private static bool Affix(string s, object? affix, bool prefix, string method)
    {
        var candidates = affix switch
        {
            string one => [one],
            PyTuple tuple => tuple.Items,
            _ => throw new TemplateRuntimeException($"{method} first arg must be str or a tuple of str, not {PyOps.TypeName(affix)}"),
        };
        foreach (var candidate in candidates)
        {
            if (candidate is not string text)
            {
                throw new TemplateRuntimeException($"tuple for {method} must only contain str, not {PyOps.TypeName(candidate)}");
            }

            if (prefix ? s.StartsWith(text, StringComparison.Ordinal) : s.EndsWith(text, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static string Pad(string s, long width, string fill, int align)
    {
        var length = PyOps.StringLength(s);
        if (width <= length)
        {
            return s;
        }

        var total = (int)(width - length);
        var left = align switch
        {
            < 0 => 0,
            > 0 => total,
            _ => (total / 2) + (total & (int)width & 1),
        };
        return string.Concat(Enumerable.Repeat(fill, left)) + s + string.Concat(Enumerable.Repeat(fill, total - left));
    }

    private static string Str(object? value, string method) =>
        value as string ?? throw new TemplateRuntimeException($"must be str, not {PyOps.TypeName(value)}");

    private static long Int(object? value, long fallback) => value switch
    {
        null => fallback,
        long or bool => PyOps.ToLong(value),
        _ => throw new TemplateRuntimeException($"'{PyOps.TypeName(value)}' object cannot be interpreted as an integer"),
    };

    public static BuiltinFunction? GetMethod(string s, string name)
    {
        Func<List<object?>, List<KeyValuePair<string, object?>>, object?>? body = name switch
        {
            "strip" => (a, k) => Strip(s, Args.Bind(name, a, k, ["chars"], [null])[0], true, true),
            "lstrip" => (a, k) => Strip(s, Args.Bind(name, a, k, ["chars"], [null])[0], true, false),
            "rstrip" => (a, k) => Strip(s, Args.Bind(name, a, k, ["chars"], [null])[0], false, true),
            "split" => (a, k) =>
            {
                var p = Args.Bind(name, a, k, ["sep", "maxsplit"], [null, -1L]);
                return Split(s, p[0], Int(p[1], -1));
            },
            "rsplit" => (a, k) =>
            {
                var p = Args.Bind(name, a, k, ["sep", "maxsplit"], [null, -1L]);
                return RSplit(s, p[0], Int(p[1], -1));
            },
            "splitlines" => (a, k) =>
            {
                var keep = PyOps.IsTruthy(Args.Bind(name, a, k, ["keepends"], [false])[0]);
                var lines = new List<object?>();
                var start = 0;
                for (var i = 0; i < s.Length; i++)
                {
                    if (s[i] is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')
                    {
                        var end = i;
                        if (s[i] == '\r' && i + 1 < s.Length && s[i + 1] == '\n')
                        {
                            i++;
                        }

                        lines.Add(keep ? s[start..(i + 1)] : s[start..end]);
                        start = i + 1;
                    }
                }

                if (start < s.Length)
                {
                    lines.Add(s[start..]);
                }

                return lines;
            },
            "startswith" => (a, _) => Affix(s, a[0], prefix: true, name),
            "endswith" => (a, _) => Affix(s, a[0], prefix: false, name),
            "upper" => (_, _) => PyCase.Upper(s),
            "lower" => (_, _) => PyCase.Lower(s),
            "casefold" => (_, _) => PyCase.Lower(s),
            "swapcase" => (_, _) => PyCase.SwapCase(s),
            "title" => (_, _) => PyCase.Title(s),
            "capitalize" => (_, _) => PyCase.Capitalize(s),
            "replace" => (a, k) =>
            {
                var p = Args.Bind(name, a, k, ["old", "new", "count"], [Args.Required, Args.Required, -1L]);
                return Replace(s, Str(p[0], name), Str(p[1], name), Int(p[2], -1));
            },
            "find" => (a, _) => (long)IndexToCodePoints(s, s.IndexOf(Str(a[0], name), StringComparison.Ordinal)),
            "rfind" => (a, _) => (long)IndexToCodePoints(s, s.LastIndexOf(Str(a[0], name), StringComparison.Ordinal)),
            "index" => (a, _) =>
            {
                var i = s.IndexOf(Str(a[0], name), StringComparison.Ordinal);
                return i < 0 ? throw new TemplateRuntimeException("substring not found") : (long)IndexToCodePoints(s, i);
            },
            "count" => (a, _) =>
            {
                var sub = Str(a[0], name);
                if (sub.Length == 0)
                {
                    return (long)PyOps.StringLength(s) + 1;
                }

                long n = 0;
                for (var i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal))
                {
                    n++;
                }

                return n;
            },
            "join" => (a, _) => string.Join(s, PyOps.Iterate(a[0]).Select((x, i) =>
                x as string ?? throw new TemplateRuntimeException($"sequence item {i}: expected str instance, {PyOps.TypeName(x)} found"))),
            "format" => (a, k) => PyFormat.StrFormat(s, a, k),
            "isdigit" or "isnumeric" or "isdecimal" => (_, _) => s.Length > 0 && s.All(char.IsDigit),
            "isalpha" => (_, _) => s.Length > 0 && s.All(char.IsLetter),
            "isalnum" => (_, _) => s.Length > 0 && s.All(char.IsLetterOrDigit),
            "isspace" => (_, _) => s.Length > 0 && s.All(IsSpace),
            "isupper" => (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsLower),
            "islower" => (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsUpper),
            "istitle" => (_, _) => s.Any(char.IsLetter) && PyCase.Title(s) == s,
            "zfill" => (a, _) =>
            {
                var width = Int(a[0], 0);
                var sign = s.Length > 0 && s[0] is '+' or '-' ? s[..1] : "";
                var rest = s[sign.Length..];
                var padding = (int)Math.Max(0, width - PyOps.StringLength(s));
                return sign + new string('0', padding) + rest;
            },
            "center" => (a, _) => Pad(s, Int(a[0], 0), a.Count > 1 ? Str(a[1], name) : " ", 0),
            "ljust" => (a, _) => Pad(s, Int(a[0], 0), a.Count > 1 ? Str(a[1], name) : " ", -1),
            "rjust" => (a, _) => Pad(s, Int(a[0], 0), a.Count > 1 ? Str(a[1], name) : " ", 1),
            "partition" or "rpartition" => (a, _) =>
            {
                var sep = Str(a[0], name);
                var i = name == "partition" ? s.IndexOf(sep, StringComparison.Ordinal) : s.LastIndexOf(sep, StringComparison.Ordinal);
                return i < 0
                    ? (name == "partition" ? new PyTuple([s, "", ""]) : new PyTuple(["", "", s]))
                    : new PyTuple([s[..i], sep, s[(i + sep.Length)..]]);
            },
            "removeprefix" => (a, _) => s.StartsWith(Str(a[0], name), StringComparison.Ordinal) ? s[((string)a[0]!).Length..] : s,
            "removesuffix" => (a, _) => ((string)a[0]!).Length > 0 && s.EndsWith(Str(a[0], name), StringComparison.Ordinal) ? s[..^((string)a[0]!).Length] : s,
            _ => null,
        };
        return body == null ? null : new BuiltinFunction(name, (_, a, k, _) => body(a, k));
    }

    private static int IndexToCodePoints(string s, int utf16Index) =>
        utf16Index < 0 ? -1 : PyOps.StringLength(s[..utf16Index]);

}
