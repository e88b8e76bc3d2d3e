namespace Flywheel.Engine.Constraints;

/// <summary>
/// Byte-level lexer of a JSON string's contents (after the opening quote): escapes, UTF-8 well-formedness (no overlong
/// forms, no surrogates; RFC 3629 table 3-7 ranges) and a count of characters (code points) for min/maxLength.
/// <c>\u</c> escapes of surrogates are refused, so every escape is one code point and the count is exact.
/// An immutable value: every step returns a new one.
/// </summary>
internal readonly record struct JsonStringLexer(int Chars, byte Escape, byte Utf8Left, byte Low, byte High, ushort Hex)
{
    public enum Step { Reject, Continue, Close }

    /// <summary>True between characters: a closing quote may come next.</summary>
    public bool AtBoundary => Escape == 0 && Utf8Left == 0;

    /// <summary>Feeds one byte. <paramref name="maxChars"/> caps the characters; <paramref name="escapes"/> allows backslashes.</summary>
    public Step Next(byte b, int maxChars, bool escapes, out JsonStringLexer next)
    {
        next = this;
        if (Utf8Left > 0)
        {
            if (b < Low || b > High) return Step.Reject;
            next = this with { Utf8Left = (byte)(Utf8Left - 1), Low = 0x80, High = 0xBF };
            return Step.Continue;
        }
        switch (Escape)
        {
            case 1:
                if (b == (byte)'u')
                {
                    next = this with { Escape = 2, Hex = 0 };
                    return Step.Continue;
                }
                if (b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t')
                {
                    next = this with { Escape = 0 };
                    return Step.Continue;
                }
                return Step.Reject;
            case >= 2:
                var digit = HexValue(b);
                if (digit < 0) return Step.Reject;
                var hex = (ushort)(Hex * 16 + digit);
                if (Escape == 3 && Hex == 0xD && digit >= 8) return Step.Reject; // U+D800..U+DFFF
                next = this with { Escape = Escape == 5 ? (byte)0 : (byte)(Escape + 1), Hex = hex };
                return Step.Continue;
        }
        if (b == (byte)'"') return Step.Close;
        if (b < 0x20) return Step.Reject; // control characters must be escaped
        if (Chars >= maxChars) return Step.Reject;
        if (b == (byte)'\\')
        {
            if (!escapes) return Step.Reject;
            next = this with { Chars = Chars + 1, Escape = 1 };
            return Step.Continue;
        }
        if (b < 0x80)
        {
            next = this with { Chars = Chars + 1 };
            return Step.Continue;
        }
        (byte left, byte low, byte high) = b switch
        {
            >= 0xC2 and <= 0xDF => ((byte)1, (byte)0x80, (byte)0xBF),
            0xE0 => ((byte)2, (byte)0xA0, (byte)0xBF),
            >= 0xE1 and <= 0xEC or 0xEE or 0xEF => ((byte)2, (byte)0x80, (byte)0xBF),
            0xED => ((byte)2, (byte)0x80, (byte)0x9F),
            0xF0 => ((byte)3, (byte)0x90, (byte)0xBF),
            >= 0xF1 and <= 0xF3 => ((byte)3, (byte)0x80, (byte)0xBF),
            0xF4 => ((byte)3, (byte)0x80, (byte)0x8F),
            _ => ((byte)0, (byte)0, (byte)0),
        };
        if (left == 0) return Step.Reject;
        next = this with { Chars = Chars + 1, Utf8Left = left, Low = low, High = high };
        return Step.Continue;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
