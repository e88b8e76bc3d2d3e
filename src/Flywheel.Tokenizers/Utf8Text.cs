using System.Buffers;
using System.Text;

namespace Flywheel.Tokenizers;

/// <summary>UTF-8 helpers shared by encoding, decoding and the streaming decoder, so they agree byte for byte.</summary>
internal static class Utf8Text
{
    /// <summary>
    /// Returns <paramref name="text"/> with every lone surrogate replaced by U+FFFD, the same thing
    /// <see cref="Encoding.UTF8"/> writes for one; the string itself when it has none (the common case).
    /// </summary>
    public static string Sanitize(string text)
    {
        int bad = FirstLoneSurrogate(text);
        if (bad < 0)
        {
            return text;
        }
        var chars = text.ToCharArray();
        for (int i = bad; i < chars.Length; i++)
        {
            char c = chars[i];
            if (char.IsHighSurrogate(c) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                chars[i] = '\uFFFD';
            }
        }
        return new string(chars);
    }

    private static int FirstLoneSurrogate(string text)
    {
        int i = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0)
        {
            return -1;
        }
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// Appends the text in <paramref name="bytes"/> to <paramref name="output"/>, one U+FFFD per maximal invalid
    /// subsequence (Unicode's "best practice", which is also what <see cref="Encoding.UTF8"/> does). When
    /// <paramref name="final"/> is false an incomplete sequence at the end is left alone; returns the number of
    /// bytes consumed.
    /// </summary>
    public static int DecodeLossy(ReadOnlySpan<byte> bytes, StringBuilder output, bool final)
    {
        int pos = 0;
        while (pos < bytes.Length)
        {
            // ASCII runs are the common case; copy them without going through Rune.
            int ascii = bytes[pos..].IndexOfAnyExceptInRange((byte)0, (byte)0x7F);
            if (ascii < 0)
            {
                ascii = bytes.Length - pos;
            }
            for (int i = 0; i < ascii; i++)
            {
                output.Append((char)bytes[pos + i]);
            }
            pos += ascii;
            if (pos >= bytes.Length)
            {
                break;
            }

            var status = Rune.DecodeFromUtf8(bytes[pos..], out var rune, out int consumed);
            if (status == OperationStatus.Done)
            {
                AppendRune(output, rune);
                pos += consumed;
            }
            else if (status == OperationStatus.NeedMoreData && !final)
            {
                // A valid but unfinished sequence: the next token may complete it.
                break;
            }
            else
            {
                output.Append('\uFFFD');
                pos += consumed;
            }
        }
        return pos;
    }

    private static void AppendRune(StringBuilder output, Rune rune)
    {
        if (rune.IsBmp)
        {
            output.Append((char)rune.Value);
        }
        else
        {
            Span<char> pair = stackalloc char[2];
            rune.EncodeToUtf16(pair);
            output.Append(pair);
        }
    }
}
