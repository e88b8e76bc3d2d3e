using System.Globalization;
using System.Numerics;
using System.Text;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// The tojson filter as transformers defines it: Python's json.dumps(x, ensure_ascii=False, indent=indent).
/// Separators are ", " and ": " without indent, "," and ": " with it; dict order is kept; non-ASCII
/// text is written as is and only control characters, quotes and backslashes are escaped.
/// </summary>
internal static class JsonDump
{
    public static string Dumps(object? value, object? indent, string itemSeparator, string keySeparator, bool sortKeys, bool ensureAscii)
    {
        var indentText = indent switch
        {
            null => null,
            long n => new string(' ', (int)Math.Max(0, n)),
            string s => s,
            _ => throw new TemplateRuntimeException($"indent must be int or str, not {PyOps.TypeName(indent)}"),
        };
        var sb = new StringBuilder();
        Write(sb, value, indentText, 0, itemSeparator, keySeparator, sortKeys, ensureAscii);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, string? indent, int level, string itemSep, string keySep, bool sortKeys, bool ensureAscii)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                return;
            case bool b:
                sb.Append(b ? "true" : "false");
                return;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                return;
            case BigInteger big:
                sb.Append(big.ToString(CultureInfo.InvariantCulture));
                return;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyOps.FloatRepr(d));
                return;
            case string s:
                WriteString(sb, s, ensureAscii);
                return;
            case List<object?> or PyTuple:
                var items = (IReadOnlyList<object?>)value;
                if (items.Count == 0)
                {
                    sb.Append("[]");
                    return;
                }

                sb.Append('[');
                for (var i = 0; i < items.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(itemSep);
                    }

                    NewLine(sb, indent, level + 1);
                    Write(sb, items[i], indent, level + 1, itemSep, keySep, sortKeys, ensureAscii);
                }

                NewLine(sb, indent, level);
                sb.Append(']');
                return;
            case PyDict dict:
                if (dict.Count == 0)
                {
                    sb.Append("{}");
                    return;
                }

                IEnumerable<KeyValuePair<object?, object?>> pairs = dict.Items;
                if (sortKeys)
                {
                    pairs = pairs.OrderBy(kv => kv.Key, Comparer<object?>.Create((a, b) => PyOps.Compare(a, b, "<")));
                }

                sb.Append('{');
                var first = true;
                foreach (var (k, v) in pairs)
                {
                    if (!first)
                    {
                        sb.Append(itemSep);
                    }

                    first = false;
                    NewLine(sb, indent, level + 1);
                    WriteString(sb, KeyText(k), ensureAscii);
                    sb.Append(keySep);
                    Write(sb, v, indent, level + 1, itemSep, keySep, sortKeys, ensureAscii);
                }

                NewLine(sb, indent, level);
                sb.Append('}');
                return;
            case Namespace or Undefined or LoopContext or ICallable:
                var typeName = value is Namespace ? "Namespace" : PyOps.TypeName(value);
                throw new TemplateRuntimeException($"Object of type {typeName} is not JSON serializable");
            default:
                throw new TemplateRuntimeException($"Object of type {PyOps.TypeName(value)} is not JSON serializable");
        }
    }

    private static string KeyText(object? key) => key switch
    {
        string s => s,
        null => "null",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        BigInteger big => big.ToString(CultureInfo.InvariantCulture),
        double d => PyOps.FloatRepr(d),
        _ => throw new TemplateRuntimeException($"keys must be str, int, float, bool or None, not {PyOps.TypeName(key)}"),
    };

    private static void NewLine(StringBuilder sb, string? indent, int level)
    {
        if (indent == null)
        {
            return;
        }

        sb.Append('\n');
        for (var i = 0; i < level; i++)
        {
            sb.Append(indent);
        }
    }

    private static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7e))
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
