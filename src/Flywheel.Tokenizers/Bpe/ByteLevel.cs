using System.Text;

namespace Flywheel.Tokenizers.Bpe;

/// <summary>
/// GPT-2's reversible byte-to-character mapping (bytes_to_unicode in openai/gpt-2 encoder.py): printable
/// Latin-1 bytes stand for themselves, the other 68 bytes are shifted to U+0100 onwards in byte order, so every
/// byte is one visible BMP character and token texts never contain spaces or control characters.
/// </summary>
internal static class ByteLevel
{
    private static readonly char[] CharOfByte = BuildCharOfByte();
    private static readonly short[] ByteOfChar = BuildByteOfChar();

    public static char CharFor(byte b) => CharOfByte[b];

    /// <summary>The byte a mapped character stands for, or -1 when <paramref name="c"/> is not in the mapping.</summary>
    public static int ByteFor(char c) => c < ByteOfChar.Length ? ByteOfChar[c] : -1;

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = bytes.Length <= 256 ? stackalloc char[bytes.Length] : new char[bytes.Length];
        Encode(bytes, chars);
        return new string(chars);
    }

    public static void Encode(ReadOnlySpan<byte> bytes, Span<char> destination)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            destination[i] = CharOfByte[bytes[i]];
        }
    }

    /// <summary>
    /// The bytes behind a byte-level token text. Characters outside the mapping (seen in hand-edited vocabularies)
    /// are kept as their own UTF-8 rather than dropped.
    /// </summary>
    public static byte[] Decode(string text)
    {
        var direct = new byte[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            int b = ByteFor(text[i]);
            if (b < 0)
            {
                return DecodeMixed(text);
            }
            direct[i] = (byte)b;
        }
        return direct;
    }

    private static byte[] DecodeMixed(string text)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < text.Length; i++)
        {
            int b = ByteFor(text[i]);
            if (b >= 0)
            {
                bytes.Add((byte)b);
                continue;
            }
            int charCount = char.IsHighSurrogate(text[i]) && i + 1 < text.Length ? 2 : 1;
            int n = Encoding.UTF8.GetBytes(text.AsSpan(i, charCount), utf8);
            for (int k = 0; k < n; k++)
            {
                bytes.Add(utf8[k]);
            }
            i += charCount - 1;
        }
        return bytes.ToArray();
    }

    private static char[] BuildCharOfByte()
    {
        var map = new char[256];
        int shifted = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + shifted++);
        }
        return map;
    }

    private static short[] BuildByteOfChar()
    {
        var reverse = new short[512];
        Array.Fill(reverse, (short)-1);
        for (int b = 0; b < 256; b++)
        {
            reverse[CharOfByte[b]] = (short)b;
        }
        return reverse;
    }
}
