using System.Globalization;
using System.Text;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// Python's full Unicode case mapping for str.upper/lower/title/capitalize, where it differs from .NET's
/// simple per-character mapping: "ß".upper() is "SS", ligatures expand, a final capital sigma lowers to
/// "ς", and title() restarts words only after uncased characters (so CJK text does not split words).
/// </summary>
internal static class PyCase
{
    // Unconditional one-to-many uppercase mappings from Unicode's SpecialCasing.txt (the common ones).
    private static readonly Dictionary<char, string> SpecialUpper = new()
    {
        ['\u00DF'] = "SS", ['\u0149'] = "\u02BCN", ['\u01F0'] = "J\u030C", ['\u0390'] = "\u0399\u0308\u0301",
        ['\u03B0'] = "\u03A5\u0308\u0301", ['\u0587'] = "\u0535\u0552", ['\u1E96'] = "H\u0331", ['\u1E97'] = "T\u0308",
        ['\u1E98'] = "W\u030A", ['\u1E99'] = "Y\u030A", ['\u1E9A'] = "A\u02BE", ['\uFB00'] = "FF", ['\uFB01'] = "FI",
        ['\uFB02'] = "FL", ['\uFB03'] = "FFI", ['\uFB04'] = "FFL", ['\uFB05'] = "ST", ['\uFB06'] = "ST",
        ['\uFB13'] = "\u0544\u0546", ['\uFB14'] = "\u0544\u0535", ['\uFB15'] = "\u0544\u053B", ['\uFB16'] = "\u054E\u0546",
        ['\uFB17'] = "\u0544\u053D",
    };

    public static bool IsCased(char c) => CharUnicodeInfo.GetUnicodeCategory(c) is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    public static string Upper(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            if (SpecialUpper.TryGetValue(c, out var expanded))
            {
                sb.Append(expanded);
            }
            else
            {
                sb.Append(char.ToUpperInvariant(c));
            }
        }

        return sb.ToString();
    }

    public static string Lower(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '\u0130')
            {
                sb.Append("i\u0307");
            }
            else if (c == '\u03A3')
            {
                var final = i > 0 && IsCased(s[i - 1]) && (i + 1 >= s.Length || !IsCased(s[i + 1]));
                sb.Append(final ? '\u03C2' : '\u03C3');
            }
            else
            {
                sb.Append(char.ToLowerInvariant(c));
            }
        }

        return sb.ToString();
    }

    /// <summary>str.title(): the first cased character after an uncased one goes upper, the rest lower.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var previousCased = false;
        foreach (var c in s)
        {
            var text = c.ToString();
            sb.Append(previousCased ? Lower(text) : Upper(text));
            previousCased = IsCased(c);
        }

        return sb.ToString();
    }

    /// <summary>str.capitalize(): first character upper, the rest lower.</summary>
    public static string Capitalize(string s) => s.Length == 0 ? s : Upper(s[..1]) + Lower(s[1..]);

    public static string SwapCase(string s) =>
        string.Concat(s.Select(c => char.IsUpper(c) ? Lower(c.ToString()) : char.IsLower(c) ? Upper(c.ToString()) : c.ToString()));
}
