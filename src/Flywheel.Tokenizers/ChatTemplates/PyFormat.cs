using System.Globalization;
using System.Text;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>Python's printf-style "%" formatting, str.format and time.strftime, for the common cases.</summary>
internal static class PyFormat
{
    private static readonly string[] MonthNames =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    private static readonly string[] DayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

    public static string Percent(string format, object? args)
    {
        var positional = args is PyTuple tuple ? tuple.Items : [args];
        var mapping = args as PyDict;
        var sb = new StringBuilder();
        var next = 0;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c != '%')
            {
                sb.Append(c);
                continue;
            }

            if (++i >= format.Length)
            {
                throw new TemplateRuntimeException("incomplete format");
            }

            object? value = null;
            var keyed = false;
            if (format[i] == '(')
            {
                var close = format.IndexOf(')', i);
                var key = format[(i + 1)..close];
                i = close + 1;
                value = mapping != null && mapping.TryGet(key, out var v) ? v : throw new TemplateRuntimeException($"'{key}'");
                keyed = true;
            }

            var flags = "";
            while (i < format.Length && "-+ 0#".Contains(format[i]))
            {
                flags += format[i++];
            }

            var widthStart = i;
            while (i < format.Length && char.IsAsciiDigit(format[i]))
            {
                i++;
            }

            var width = i > widthStart ? int.Parse(format[widthStart..i], CultureInfo.InvariantCulture) : 0;
            int? precision = null;
            if (i < format.Length && format[i] == '.')
            {
                var precisionStart = ++i;
                while (i < format.Length && char.IsAsciiDigit(format[i]))
                {
                    i++;
                }

                precision = i > precisionStart ? int.Parse(format[precisionStart..i], CultureInfo.InvariantCulture) : 0;
            }

            var conversion = format[i];
            if (conversion == '%')
            {
                sb.Append('%');
                continue;
            }

            if (!keyed)
            {
                if (next >= positional.Length)
                {
                    throw new TemplateRuntimeException("not enough arguments for format string");
                }

                value = positional[next++];
            }

            var text = conversion switch
            {
                's' => PyOps.Str(value),
                'r' or 'a' => PyOps.Repr(value),
                'd' or 'i' or 'u' => ToInteger(value).ToString(CultureInfo.InvariantCulture),
                'f' or 'F' => ToFloat(value).ToString("F" + (precision ?? 6), CultureInfo.InvariantCulture),
                'e' or 'E' => Scientific(ToFloat(value), precision ?? 6, conversion == 'E'),
                'g' or 'G' => General(ToFloat(value), precision ?? 6, conversion == 'G'),
                'x' => ToInteger(value).ToString("x", CultureInfo.InvariantCulture),
                'X' => ToInteger(value).ToString("X", CultureInfo.InvariantCulture),
                'o' => Convert.ToString(ToInteger(value), 8),
                'c' => value is string ch ? ch : char.ConvertFromUtf32((int)ToInteger(value)),
                _ => throw new TemplateRuntimeException($"unsupported format character '{conversion}'"),
            };
            if (conversion is 's' or 'r' && precision is int p && p < text.Length)
            {
                text = text[..p];
            }

            if (flags.Contains('+') && conversion is 'd' or 'i' or 'f' && !text.StartsWith('-'))
            {
                text = "+" + text;
            }

            if (text.Length < width)
            {
                var pad = width - text.Length;
                text = flags.Contains('-') ? text + new string(' ', pad)
                    : flags.Contains('0') && conversion is not 's' ? new string('0', pad) + text
                    : new string(' ', pad) + text;
            }

            sb.Append(text);
        }

        // Python only complains about unused arguments that are a tuple or a plain scalar: anything with
        // __getitem__ (dict, list, jinja2's Undefined) counts as a mapping.
        var mappingLike = args is PyDict or List<object?> or Undefined or PyView;
        if (!mappingLike && next < positional.Length)
        {
            throw new TemplateRuntimeException("not all arguments converted during string formatting");
        }

        return sb.ToString();
    }

    // printf %e: one digit, the fraction, and an exponent of at least two digits (.NET writes three).
    private static string Scientific(double value, int precision, bool upper)
    {
        var text = value.ToString("E" + precision, CultureInfo.InvariantCulture);
        var e = text.IndexOf('E');
        var exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        text = text[..e] + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        return upper ? text.ToUpperInvariant() : text;
    }

    // printf %g: scientific when the exponent is < -4 or >= precision, trailing zeros removed.
    private static string General(double value, int precision, bool upper)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            var special = double.IsNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
            return upper ? special.ToUpperInvariant() : special;
        }

        precision = Math.Max(precision, 1);
        if (value == 0)
        {
            return double.IsNegative(value) ? "-0" : "0";
        }

        var scientific = value.ToString("E" + (precision - 1), CultureInfo.InvariantCulture);
        var exponent = int.Parse(scientific[(scientific.IndexOf('E') + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string text;
        if (exponent < -4 || exponent >= precision)
        {
            var mantissa = scientific[..scientific.IndexOf('E')];
            if (mantissa.Contains('.'))
            {
                mantissa = mantissa.TrimEnd('0').TrimEnd('.');
            }

            text = mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        }
        else
        {
            text = value.ToString("F" + Math.Max(0, precision - 1 - exponent), CultureInfo.InvariantCulture);
            if (text.Contains('.'))
            {
                text = text.TrimEnd('0').TrimEnd('.');
            }
        }

        return upper ? text.ToUpperInvariant() : text;
    }

    private static long ToInteger(object? value) => value switch
    {
        long or bool => PyOps.ToLong(value),
        double d => (long)Math.Truncate(d),
        _ => throw new TemplateRuntimeException($"%d format: a real number is required, not {PyOps.TypeName(value)}"),
    };

    private static double ToFloat(object? value) => value switch
    {
        long or bool => PyOps.ToLong(value),
        double d => d,
        _ => throw new TemplateRuntimeException($"must be real number, not {PyOps.TypeName(value)}"),
    };

    /// <summary>
    /// str.format with {}, {0}, {name}, {name.attr} and simple format specs. The sandbox formats through
    /// string.Formatter, which reports both numbering mix-ups with the same message.
    /// </summary>
    public static string StrFormat(string format, List<object?> args, List<KeyValuePair<string, object?>> kwargs)
    {
        var sb = new StringBuilder();
        var auto = 0;
        var manual = false;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c == '{' && i + 1 < format.Length && format[i + 1] == '{')
            {
                sb.Append('{');
                i++;
                continue;
            }

            if (c == '}' && i + 1 < format.Length && format[i + 1] == '}')
            {
                sb.Append('}');
                i++;
                continue;
            }

            if (c != '{')
            {
                sb.Append(c);
                continue;
            }

            var close = format.IndexOf('}', i);
            if (close < 0)
            {
                throw new TemplateRuntimeException("Single '{' encountered in format string");
            }

            var field = format[(i + 1)..close];
            i = close;
            var spec = "";
            var colon = field.IndexOf(':');
            if (colon >= 0)
            {
                spec = field[(colon + 1)..];
                field = field[..colon];
            }

            var conversion = "";
            var bang = field.IndexOf('!');
            if (bang >= 0)
            {
                conversion = field[(bang + 1)..];
                field = field[..bang];
            }

            var parts = field.Split('.');
            object? value;
            if (parts[0].Length == 0)
            {
                if (manual)
                {
                    throw new TemplateRuntimeException("cannot switch from manual field specification to automatic field numbering");
                }

                value = auto < args.Count ? args[auto++] : throw new TemplateRuntimeException("Replacement index out of range");
            }
            else if (int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                if (auto > 0)
                {
                    throw new TemplateRuntimeException("cannot switch from manual field specification to automatic field numbering");
                }

                manual = true;
                value = index < args.Count ? args[index] : throw new TemplateRuntimeException($"Replacement index {index} out of range");
            }
            else
            {
                var kv = kwargs.FirstOrDefault(x => x.Key == parts[0]);
                value = kv.Key != null ? kv.Value : throw new TemplateRuntimeException($"'{parts[0]}'");
            }

            foreach (var attr in parts.Skip(1))
            {
                value = Members.GetAttr(value, attr);
            }

            var text = conversion == "r" ? PyOps.Repr(value) : FormatSpec(value, spec);
            sb.Append(text);
        }

        return sb.ToString();
    }

    private static string FormatSpec(object? value, string spec)
    {
        if (spec.Length == 0)
        {
            return PyOps.Str(value);
        }

        var type = char.IsLetter(spec[^1]) ? spec[^1] : '\0';
        var body = type == '\0' ? spec : spec[..^1];
        int? precision = null;
        var dot = body.IndexOf('.');
        if (dot >= 0)
        {
            precision = int.Parse(body[(dot + 1)..], CultureInfo.InvariantCulture);
            body = body[..dot];
        }

        var align = '\0';
        var fill = ' ';
        if (body.Length >= 2 && body[1] is '<' or '>' or '^')
        {
            fill = body[0];
            align = body[1];
            body = body[2..];
        }
        else if (body.Length >= 1 && body[0] is '<' or '>' or '^')
        {
            align = body[0];
            body = body[1..];
        }

        if (body.StartsWith('0') && align == '\0')
        {
            fill = '0';
            align = '>';
        }

        var width = body.Length > 0 ? int.Parse(body, CultureInfo.InvariantCulture) : 0;
        var text = type switch
        {
            'f' or 'F' => ToFloat(value).ToString("F" + (precision ?? 6), CultureInfo.InvariantCulture),
            'd' => ToInteger(value).ToString(CultureInfo.InvariantCulture),
            'x' => ToInteger(value).ToString("x", CultureInfo.InvariantCulture),
            _ => precision is int p && value is string s && s.Length > p ? s[..p] : PyOps.Str(value),
        };
        if (text.Length >= width)
        {
            return text;
        }

        if (align == '\0')
        {
            align = value is string ? '<' : '>';
        }

        var pad = width - text.Length;
        return align switch
        {
            '<' => text + new string(fill, pad),
            '>' => new string(fill, pad) + text,
            _ => new string(fill, pad / 2) + text + new string(fill, pad - (pad / 2)),
        };
    }

    /// <summary>Python datetime.strftime for the common directives.</summary>
    public static string Strftime(DateTimeOffset time, string format)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            var directive = format[++i];
            if (directive == '-' && i + 1 < format.Length)
            {
                // glibc's "%-d" style: the same field without zero padding.
                var padded = Strftime(time, "%" + format[++i]);
                sb.Append(padded.Length > 1 && padded[0] == '0' ? padded.TrimStart('0') is { Length: > 0 } t ? t : "0" : padded);
                continue;
            }

            var weekday = ((int)time.DayOfWeek + 6) % 7;
            sb.Append(directive switch
            {
                'd' => time.Day.ToString("00", CultureInfo.InvariantCulture),
                'e' => time.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2),
                'm' => time.Month.ToString("00", CultureInfo.InvariantCulture),
                'Y' => time.Year.ToString("0000", CultureInfo.InvariantCulture),
                'y' => (time.Year % 100).ToString("00", CultureInfo.InvariantCulture),
                'b' or 'h' => MonthNames[time.Month - 1][..3],
                'B' => MonthNames[time.Month - 1],
                'a' => DayNames[weekday][..3],
                'A' => DayNames[weekday],
                'w' => ((int)time.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'u' => (weekday + 1).ToString(CultureInfo.InvariantCulture),
                'H' => time.Hour.ToString("00", CultureInfo.InvariantCulture),
                'I' => (((time.Hour + 11) % 12) + 1).ToString("00", CultureInfo.InvariantCulture),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'M' => time.Minute.ToString("00", CultureInfo.InvariantCulture),
                'S' => time.Second.ToString("00", CultureInfo.InvariantCulture),
                'f' => (time.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", CultureInfo.InvariantCulture),
                'j' => time.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                'z' => "",
                'Z' => "",
                'D' => Strftime(time, "%m/%d/%y"),
                'F' => Strftime(time, "%Y-%m-%d"),
                'T' => Strftime(time, "%H:%M:%S"),
                'R' => Strftime(time, "%H:%M"),
                'c' => Strftime(time, "%a %b %e %H:%M:%S %Y"),
                'x' => Strftime(time, "%m/%d/%y"),
                'X' => Strftime(time, "%H:%M:%S"),
                '%' => "%",
                _ => "%" + directive,
            });
        }

        return sb.ToString();
    }
}
