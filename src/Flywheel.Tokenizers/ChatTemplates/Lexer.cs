using System.Globalization;
using System.Text;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// Splits a template into tokens the way jinja2's lexer does with trim_blocks=True and
/// lstrip_blocks=True (the settings transformers uses): whitespace control signs, raw blocks,
/// comments, and bracket balancing so that "}}" inside a dict literal does not end a tag.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Operators =
    [
        "//", "**", "==", "!=", ">=", "<=",
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
    ];

    private readonly SourceText _source;
    private readonly string _text;
    private readonly List<Token> _tokens = [];
    private int _pos;
    private bool _lineStarting = true;

    private Lexer(SourceText source)
    {
        _source = source;
        _text = source.Text;
    }

    public static List<Token> Tokenize(SourceText source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private void Run()
    {
        while (_pos < _text.Length)
        {
            var open = FindTagStart(_pos);
            if (open < 0)
            {
                Emit(TokenKind.Data, _text[_pos..], _pos);
                _pos = _text.Length;
                break;
            }

            var kindChar = _text[open + 1];
            var afterOpen = open + 2;
            var sign = afterOpen < _text.Length && (_text[afterOpen] == '-' || _text[afterOpen] == '+') ? _text[afterOpen] : '\0';
            var data = _text[_pos..open];
            if (sign == '-')
            {
                data = data.TrimEnd();
            }
            else if (sign != '+' && kindChar != '{')
            {
                data = LStrip(data);
            }

            Emit(TokenKind.Data, data, _pos);
            var bodyStart = afterOpen + (sign != '\0' ? 1 : 0);
            _lineStarting = false;
            if (kindChar == '#')
            {
                SkipComment(open, bodyStart);
            }
            else if (kindChar == '%' && TryRaw(open, bodyStart))
            {
                // raw block emitted as data
            }
            else
            {
                var isBlock = kindChar == '%';
                _tokens.Add(new Token(isBlock ? TokenKind.BlockBegin : TokenKind.VariableBegin, _text[open..bodyStart], null, open));
                _pos = bodyStart;
                LexTag(isBlock, open);
            }
        }

        _tokens.Add(new Token(TokenKind.End, "", null, _text.Length));
    }

    private int FindTagStart(int from)
    {
        for (var i = _text.IndexOf('{', from); i >= 0 && i + 1 < _text.Length; i = _text.IndexOf('{', i + 1))
        {
            var next = _text[i + 1];
            if (next == '{' || next == '%' || next == '#')
            {
                return i;
            }
        }

        return -1;
    }

    // lstrip_blocks: drop spaces and tabs between the start of a line and a block or comment tag.
    private string LStrip(string data)
    {
        var lineStart = data.LastIndexOf('\n') + 1;
        if (lineStart > 0 || _lineStarting)
        {
            if (lineStart < data.Length && IsAllWhitespace(data, lineStart))
            {
                return data[..lineStart];
            }
        }

        return data;
    }

    private static bool IsAllWhitespace(string s, int from)
    {
        for (var i = from; i < s.Length; i++)
        {
            if (!char.IsWhiteSpace(s[i]))
            {
                return false;
            }
        }

        return true;
    }

    private void Emit(TokenKind kind, string text, int offset)
    {
        if (text.Length > 0)
        {
            _tokens.Add(new Token(kind, text, null, offset));
        }
    }

    private void SkipComment(int open, int bodyStart)
    {
        var end = _text.IndexOf("#}", bodyStart, StringComparison.Ordinal);
        if (end < 0)
        {
            throw _source.Error("Missing end of comment tag", open);
        }

        var signChar = end - 1 >= bodyStart ? _text[end - 1] : '\0';
        _pos = end + 2;
        ApplyTagEnd(signChar);
    }

    // After a block or comment end: "-" eats all following whitespace, "+" keeps it, otherwise
    // trim_blocks eats a single newline.
    private void ApplyTagEnd(char signChar)
    {
        var start = _pos;
        if (signChar == '-')
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
            {
                _pos++;
            }
        }
        else if (signChar != '+' && _pos < _text.Length && _text[_pos] == '\n')
        {
            _pos++;
        }

        _lineStarting = _pos > start ? _text[_pos - 1] == '\n' : false;
    }

    private bool TryRaw(int open, int bodyStart)
    {
        var p = SkipSpaces(bodyStart);
        if (string.CompareOrdinal(_text, p, "raw", 0, 3) != 0)
        {
            return false;
        }

        p = SkipSpaces(p + 3);
        char endSign;
        if (At(p, "-%}"))
        {
            endSign = '-';
            p += 3;
        }
        else if (At(p, "%}"))
        {
            endSign = '\0';
            p += 2;
        }
        else
        {
            return false;
        }

        if (endSign == '-')
        {
            while (p < _text.Length && char.IsWhiteSpace(_text[p]))
            {
                p++;
            }
        }

        // Find "{%[-+]? endraw [-+]?%}".
        for (var search = p; ; search++)
        {
            var start = _text.IndexOf("{%", search, StringComparison.Ordinal);
            if (start < 0)
            {
                throw _source.Error("Missing end of raw directive", open);
            }

            var q = start + 2;
            var sign = q < _text.Length && (_text[q] == '-' || _text[q] == '+') ? _text[q] : '\0';
            if (sign != '\0')
            {
                q++;
            }

            q = SkipSpaces(q);
            if (!At(q, "endraw"))
            {
                search = start;
                continue;
            }

            q = SkipSpaces(q + 6);
            char closeSign;
            if (At(q, "-%}") || At(q, "+%}"))
            {
                closeSign = _text[q];
                q += 3;
            }
            else if (At(q, "%}"))
            {
                closeSign = '\0';
                q += 2;
            }
            else
            {
                search = start;
                continue;
            }

            var data = _text[p..start];
            if (sign == '-')
            {
                data = data.TrimEnd();
            }
            else if (sign != '+')
            {
                data = LStrip(data);
            }

            Emit(TokenKind.Data, data, p);
            _pos = q;
            ApplyTagEnd(closeSign);
            return true;
        }
    }

    private bool At(int p, string s) => p + s.Length <= _text.Length && string.CompareOrdinal(_text, p, s, 0, s.Length) == 0;

    private int SkipSpaces(int p)
    {
        while (p < _text.Length && char.IsWhiteSpace(_text[p]))
        {
            p++;
        }

        return p;
    }

    private void LexTag(bool isBlock, int open)
    {
        var brackets = new Stack<char>();
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw _source.Error(
                    isBlock ? "unexpected end of template, expected 'end of statement block'." : "unexpected end of template, expected 'end of print statement'.",
                    open);
            }

            if (brackets.Count == 0 && TryTagEnd(isBlock))
            {
                return;
            }

            var c = _text[_pos];
            if (char.IsWhiteSpace(c))
            {
                _pos++;
                continue;
            }

            var start = _pos;
            if (c == '\'' || c == '"')
            {
                _tokens.Add(new Token(TokenKind.String, _text[start.._pos], ReadString(c), start));
                continue;
            }

            if (char.IsAsciiDigit(c))
            {
                ReadNumber();
                continue;
            }

            if (char.IsLetter(c) || c == '_')
            {
                while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] == '_'))
                {
                    _pos++;
                }

                _tokens.Add(new Token(TokenKind.Name, _text[start.._pos], null, start));
                continue;
            }

            var op = Array.Find(Operators, o => At(_pos, o))
                ?? throw _source.Error($"unexpected char '{c}' at {_pos}", _pos);
            switch (op)
            {
                case "(":
                    brackets.Push(')');
                    break;
                case "[":
                    brackets.Push(']');
                    break;
                case "{":
                    brackets.Push('}');
                    break;
                case ")" or "]" or "}":
                    if (brackets.Count == 0)
                    {
                        throw _source.Error($"unexpected '{op}'", _pos);
                    }

                    var expected = brackets.Pop();
                    if (expected != op[0])
                    {
                        throw _source.Error($"unexpected '{op}', expected '{expected}'", _pos);
                    }

                    break;
            }

            _pos += op.Length;
            _tokens.Add(new Token(TokenKind.Operator, op, null, start));
        }
    }

    private bool TryTagEnd(bool isBlock)
    {
        var close = isBlock ? "%}" : "}}";
        var start = _pos;
        if (At(_pos, "-" + close))
        {
            _pos += 3;
            _tokens.Add(new Token(isBlock ? TokenKind.BlockEnd : TokenKind.VariableEnd, "-" + close, null, start));
            ApplyTagEnd('-');
            return true;
        }

        if (isBlock && At(_pos, "+" + close))
        {
            _pos += 3;
            _tokens.Add(new Token(TokenKind.BlockEnd, "+" + close, null, start));
            ApplyTagEnd('+');
            return true;
        }

        if (At(_pos, close))
        {
            _pos += 2;
            _tokens.Add(new Token(isBlock ? TokenKind.BlockEnd : TokenKind.VariableEnd, close, null, start));
            if (isBlock)
            {
                ApplyTagEnd('\0');
            }
            else
            {
                _lineStarting = false;
            }

            return true;
        }

        return false;
    }

    private void ReadNumber()
    {
        var start = _pos;
        SkipDigits();
        var isFloat = false;
        if (_pos + 1 < _text.Length && _text[_pos] == '.' && char.IsAsciiDigit(_text[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            SkipDigits();
        }

        if (_pos < _text.Length && (_text[_pos] == 'e' || _text[_pos] == 'E'))
        {
            var p = _pos + 1;
            if (p < _text.Length && (_text[p] == '+' || _text[p] == '-'))
            {
                p++;
            }

            if (p < _text.Length && char.IsAsciiDigit(_text[p]))
            {
                isFloat = true;
                _pos = p;
                SkipDigits();
            }
        }

        var raw = _text[start.._pos];
        var clean = raw.Replace("_", "");
        object value = isFloat
            ? (object)double.Parse(clean, NumberStyles.Float, CultureInfo.InvariantCulture)
            : long.TryParse(clean, NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? (object)l
            : System.Numerics.BigInteger.Parse(clean, NumberStyles.None, CultureInfo.InvariantCulture);
        _tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, raw, value, start));
    }

    private void SkipDigits()
    {
        while (_pos < _text.Length && (char.IsAsciiDigit(_text[_pos]) || (_text[_pos] == '_' && _pos + 1 < _text.Length && char.IsAsciiDigit(_text[_pos + 1]))))
        {
            _pos++;
        }
    }

    // Python "unicode-escape" decoding of a quoted literal, as jinja2 does for string tokens.
    private string ReadString(char quote)
    {
        var start = _pos;
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw _source.Error("unexpected char '" + quote + "' at " + start, start);
            }

            var c = _text[_pos++];
            if (c == quote)
            {
                return sb.ToString();
            }

            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            if (_pos >= _text.Length)
            {
                throw _source.Error("unexpected char '" + quote + "' at " + start, start);
            }

            var e = _text[_pos++];
            switch (e)
            {
                case '\n': break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case 'x': sb.Append(ReadHexEscape(2, start)); break;
                case 'u': sb.Append(ReadHexEscape(4, start)); break;
                case 'U': sb.Append(ReadHexEscape(8, start)); break;
                case >= '0' and <= '7':
                    var value = e - '0';
                    for (var k = 0; k < 2 && _pos < _text.Length && _text[_pos] is >= '0' and <= '7'; k++)
                    {
                        value = (value * 8) + (_text[_pos++] - '0');
                    }

                    sb.Append(char.ConvertFromUtf32(value));
                    break;
                default:
                    sb.Append('\\').Append(e);
                    break;
            }
        }
    }

    private string ReadHexEscape(int digits, int start)
    {
        if (_pos + digits > _text.Length || !int.TryParse(_text.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
        {
            throw _source.Error("invalid escape in string literal", start);
        }

        _pos += digits;
        return char.ConvertFromUtf32(code);
    }
}
