using System.Globalization;
using System.Text;

namespace Flywheel.Tokenizers.Bpe;

/// <summary>
/// Rewrites a pre-tokenizer regex written for Oniguruma / Python <c>regex</c> (as HF tokenizer.json and llama.cpp
/// carry them) into a .NET pattern that runs over a "proxy" text with one UTF-16 unit per code point.
/// <list type="bullet">
/// <item>.NET matches UTF-16 units, so a supplementary character (emoji, CJK extension B, Deseret) would be two
/// surrogates of category Cs and never match <c>\p{L}</c>. The proxy text replaces each such character by a BMP
/// character of the same general category (see <see cref="RegexSplitRule"/>); literal supplementary characters
/// and ranges in the pattern (DeepSeek's <c>𐐀-𐑏</c>) become private-use characters U+E000 + k.</item>
/// <item>Possessive quantifiers (<c>?+</c>, <c>++</c>, <c>*+</c>, <c>{n,m}+</c>), which .NET lacks, become atomic
/// groups: <c>X++</c> is <c>(?&gt;X+)</c>, the same language.</item>
/// <item>Oniguruma's <c>\x{HHHH}</c> becomes <c>\uHHHH</c>.</item>
/// </list>
/// It also records the non-ASCII literals of the pattern, so that stand-in characters can avoid them.
/// </summary>
internal static class RegexTranslator
{
    /// <summary>First private-use character used for literal supplementary ranges.</summary>
    public const char AstralRangeBase = '\uE000';

    public sealed record Result(string Pattern, IReadOnlyList<(int Lo, int Hi)> AstralRanges, IReadOnlyList<(int Lo, int Hi)> BmpLiterals);

    public static Result Translate(string pattern)
    {
        var t = new State(pattern);
        t.Run();
        return new Result(t.Output.ToString(), t.AstralRanges, t.BmpLiterals);
    }

    private sealed class State(string pattern)
    {
        private readonly string _p = pattern;
        private int _i;
        private readonly Stack<int> _groupStarts = new();
        private int _lastAtom = -1;

        public StringBuilder Output { get; } = new();
        public List<(int Lo, int Hi)> AstralRanges { get; } = [];
        public List<(int Lo, int Hi)> BmpLiterals { get; } = [];

        public void Run()
        {
            while (_i < _p.Length)
            {
                char c = _p[_i];
                switch (c)
                {
                    case '\\':
                        {
                            int start = Output.Length;
                            var (text, literal) = ReadEscape();
                            EmitLiteralOrText(text, literal);
                            _lastAtom = start;
                            break;
                        }
                    case '[':
                        {
                            int start = Output.Length;
                            ReadClass();
                            _lastAtom = start;
                            break;
                        }
                    case '(':
                        _groupStarts.Push(Output.Length);
                        Output.Append('(');
                        _i++;
                        _lastAtom = -1;
                        break;
                    case ')':
                        Output.Append(')');
                        _i++;
                        _lastAtom = _groupStarts.Count > 0 ? _groupStarts.Pop() : -1;
                        break;
                    case '*':
                    case '+':
                    case '?':
                        ReadQuantifier(1);
                        break;
                    case '{':
                        {
                            int len = BraceQuantifierLength();
                            if (len > 0)
                            {
                                ReadQuantifier(len);
                            }
                            else
                            {
                                Output.Append('{');
                                _i++;
                                _lastAtom = Output.Length - 1;
                            }
                            break;
                        }
                    default:
                        {
                            int start = Output.Length;
                            int cp = CodePointAt(_p, _i, out int width);
                            _i += width;
                            EmitLiteralOrText(_p.Substring(_i - width, width), cp);
                            _lastAtom = c is '|' or '^' or '$' ? -1 : start;
                            break;
                        }
                }
            }
        }

        private void ReadQuantifier(int length)
        {
            string quantifier = _p.Substring(_i, length);
            _i += length;
            bool possessive = _i < _p.Length && _p[_i] == '+';
            bool lazy = _i < _p.Length && _p[_i] == '?';
            if (possessive && _lastAtom >= 0)
            {
                _i++;
                Output.Insert(_lastAtom, "(?>");
                Output.Append(quantifier).Append(')');
            }
            else
            {
                Output.Append(quantifier);
                if (lazy)
                {
                    Output.Append('?');
                    _i++;
                }
            }
            _lastAtom = -1;
        }

        /// <summary>Length of a <c>{n}</c>, <c>{n,}</c> or <c>{n,m}</c> quantifier at the cursor, else 0 (a literal brace).</summary>
        private int BraceQuantifierLength()
        {
            int j = _i + 1;
            int digits = 0;
            while (j < _p.Length && char.IsAsciiDigit(_p[j])) { j++; digits++; }
            if (digits == 0)
            {
                return 0;
            }
            if (j < _p.Length && _p[j] == ',')
            {
                j++;
                while (j < _p.Length && char.IsAsciiDigit(_p[j])) { j++; }
            }
            return j < _p.Length && _p[j] == '}' ? j + 1 - _i : 0;
        }

        /// <summary>Reads an escape at the cursor; returns its .NET text and the code point it stands for when it is a literal (else -1).</summary>
        private (string Text, int Literal) ReadEscape()
        {
            int start = _i;
            _i++; // backslash
            if (_i >= _p.Length)
            {
                return ("\\\\", '\\');
            }
            char e = _p[_i++];
            if ((e == 'p' || e == 'P') && _i < _p.Length && _p[_i] == '{')
            {
                int close = _p.IndexOf('}', _i);
                _i = close < 0 ? _p.Length : close + 1;
                return (_p[start.._i], -1);
            }
            if (e == 'x' && _i < _p.Length && _p[_i] == '{')
            {
                int close = _p.IndexOf('}', _i);
                string hex = _p[(_i + 1)..close];
                _i = close + 1;
                int cp = int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                return (EscapeBmp(cp), cp);
            }
            if (e == 'u' && _i + 4 <= _p.Length && IsHex(_p.AsSpan(_i, 4)))
            {
                int cp = int.Parse(_p.AsSpan(_i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                _i += 4;
                return (_p[start.._i], cp);
            }
            if (e == 'x' && _i + 2 <= _p.Length && IsHex(_p.AsSpan(_i, 2)))
            {
                int cp = int.Parse(_p.AsSpan(_i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                _i += 2;
                return (_p[start.._i], cp);
            }
            int literal = e switch
            {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'f' => '\f',
                'v' => '\v',
                'a' => '\a',
                'e' => 0x1B,
                _ when char.IsAsciiLetterOrDigit(e) => -1, // a class such as \s, \d, \w, \b, or a back-reference
                _ => CodePointAt(_p, _i - 1, out _),
            };
            if (char.IsHighSurrogate(e))
            {
                _i++;
            }
            return (_p[start.._i], literal);
        }

        private void ReadClass()
        {
            Output.Append('[');
            _i++;
            if (_i < _p.Length && _p[_i] == '^')
            {
                Output.Append('^');
                _i++;
            }
            bool first = true;
            while (_i < _p.Length && (_p[_i] != ']' || first))
            {
                first = false;
                var (loText, lo) = ReadClassElement();
                bool isRange = lo >= 0 && _i + 1 < _p.Length && _p[_i] == '-' && _p[_i + 1] != ']';
                if (!isRange)
                {
                    EmitClassRange(loText, lo, lo, null);
                    continue;
                }
                _i++; // '-'
                var (hiText, hi) = ReadClassElement();
                if (hi < 0)
                {
                    // "a-\s" is not a range; keep all three as they were.
                    EmitClassRange(loText, lo, lo, null);
                    Output.Append("\\-");
                    Output.Append(hiText);
                    continue;
                }
                EmitClassRange(loText, lo, hi, hiText);
            }
            Output.Append(']');
            _i++;
        }

        private (string Text, int Literal) ReadClassElement()
        {
            if (_p[_i] == '\\')
            {
                return ReadEscape();
            }
            int cp = CodePointAt(_p, _i, out int width);
            string text = _p.Substring(_i, width);
            _i += width;
            // '[' inside a class is literal in .NET; escape it so Oniguruma-style text stays literal too.
            return (cp == '[' ? "\\[" : text, cp);
        }

        private void EmitClassRange(string loText, int lo, int hi, string? hiText)
        {
            if (lo < 0)
            {
                Output.Append(loText);
                return;
            }
            if (hi < 0x10000)
            {
                NoteBmp(lo, hi);
                Output.Append(loText);
                if (hiText is not null)
                {
                    Output.Append('-').Append(hiText);
                }
                return;
            }
            if (lo < 0x10000)
            {
                NoteBmp(lo, 0xFFFF);
                Output.Append(loText).Append("-\\uFFFF");
                lo = 0x10000;
            }
            Output.Append(EscapeBmp(AddAstralRange(lo, hi)));
        }

        private void EmitLiteralOrText(string text, int literal)
        {
            if (literal >= 0x10000)
            {
                Output.Append(EscapeBmp(AddAstralRange(literal, literal)));
                return;
            }
            if (literal >= 0x80)
            {
                NoteBmp(literal, literal);
            }
            Output.Append(text);
        }

        private char AddAstralRange(int lo, int hi)
        {
            AstralRanges.Add((lo, hi));
            return (char)(AstralRangeBase + AstralRanges.Count - 1);
        }

        private void NoteBmp(int lo, int hi)
        {
            if (hi >= 0x80)
            {
                BmpLiterals.Add((Math.Max(lo, 0x80), hi));
            }
        }
    }

    private static string EscapeBmp(int cp) => cp < 0x10000
        ? "\\u" + cp.ToString("X4", CultureInfo.InvariantCulture)
        : char.ConvertFromUtf32(cp);

    /// <summary>The code point at <paramref name="index"/> (a surrogate pair read as one); a lone surrogate is itself.</summary>
    internal static int CodePointAt(string s, int index, out int width)
    {
        if (char.IsHighSurrogate(s[index]) && index + 1 < s.Length && char.IsLowSurrogate(s[index + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(s[index], s[index + 1]);
        }
        width = 1;
        return s[index];
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        return true;
    }
}
