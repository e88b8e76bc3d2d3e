namespace Flywheel.Engine.Parsing;

/// <summary>Helpers for holding back streamed text that may turn into a marker.</summary>
internal static class HeldText
{
    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of <paramref name="marker"/>.</summary>
    public static int MarkerPrefixSuffix(string text, string marker)
    {
        for (var len = Math.Min(marker.Length - 1, text.Length); len > 0; len--)
        {
            if (string.CompareOrdinal(text, text.Length - len, marker, 0, len) == 0) return len;
        }
        return 0;
    }

    /// <summary>Length of the run of whitespace at the end of <paramref name="text"/>, counted back from <paramref name="end"/>.</summary>
    public static int TrailingWhitespace(string text, int end)
    {
        var n = 0;
        while (n < end && char.IsWhiteSpace(text[end - 1 - n])) n++;
        return n;
    }
}
