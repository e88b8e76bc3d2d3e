using System.Globalization;
using System.Text.RegularExpressions;

namespace Flywheel.Tokenizers.Bpe;

/// <summary>
/// One regex split step: every match becomes a piece and so does every stretch of text between matches
/// (HF tokenizers' <c>Split</c> with behavior <c>Isolated</c>; llama.cpp's unicode_regex_split does the same).
/// Each piece from the previous step is split on its own, so anchors and lookarounds never see past it.
/// <para>
/// The regex runs over a proxy text with exactly one UTF-16 unit per code point: BMP characters stand for
/// themselves and each supplementary character is replaced by a BMP stand-in of the same Unicode general
/// category, chosen outside every literal the pattern names (llama.cpp "collapses" code points to one byte per
/// category for the same reason; we keep the full category, so \p{Lu} and \p{Ll} stay distinct).
/// </para>
/// Thread-safety: immutable; <see cref="Split"/> may run on many threads.
/// </summary>
internal sealed class RegexSplitRule
{
    /// <summary>Stand-in for a BMP private-use character when the pattern claims U+E000.. for its own ranges.</summary>
    private const char PrivateUseStandIn = '\uF8FF';

    private readonly Regex _regex;
    private readonly (int Lo, int Hi)[] _astralRanges;
    private readonly char[] _standInByCategory;

    public RegexSplitRule(string pattern)
    {
        Pattern = pattern;
        var translated = RegexTranslator.Translate(pattern);
        // Multiline: Oniguruma's Ruby syntax (HF tokenizers) reads $ as end of line.
        _regex = new Regex(translated.Pattern, RegexOptions.CultureInvariant | RegexOptions.Multiline | RegexOptions.Compiled);
        _astralRanges = [.. translated.AstralRanges];
        _standInByCategory = ChooseStandIns(translated.BmpLiterals);
    }

    /// <summary>The pattern as written (Oniguruma syntax).</summary>
    public string Pattern { get; }

    /// <summary>True when the pattern names supplementary characters, so BMP private-use input must be moved aside.</summary>
    public bool UsesPrivateUse => _astralRanges.Length > 0;

    /// <summary>The proxy character for <paramref name="codePoint"/>.</summary>
    public char ProxyFor(int codePoint)
    {
        if (codePoint < 0x10000)
        {
            bool claimed = UsesPrivateUse && codePoint >= RegexTranslator.AstralRangeBase
                && codePoint < RegexTranslator.AstralRangeBase + _astralRanges.Length;
            return claimed ? PrivateUseStandIn : (char)codePoint;
        }
        for (int k = 0; k < _astralRanges.Length; k++)
        {
            if (codePoint >= _astralRanges[k].Lo && codePoint <= _astralRanges[k].Hi)
            {
                return (char)(RegexTranslator.AstralRangeBase + k);
            }
        }
        return _standInByCategory[(int)CharUnicodeInfo.GetUnicodeCategory(codePoint)];
    }

    /// <summary>Splits each of <paramref name="pieces"/> (ranges of <paramref name="proxy"/>) and writes the result to <paramref name="output"/>.</summary>
    public void Split(string proxy, List<Range> pieces, List<Range> output)
    {
        foreach (var piece in pieces)
        {
            var (start, length) = piece.GetOffsetAndLength(proxy.Length);
            int cursor = start;
            foreach (var m in _regex.EnumerateMatches(proxy.AsSpan(start, length)))
            {
                int matchStart = start + m.Index;
                if (matchStart > cursor)
                {
                    output.Add(new Range(cursor, matchStart));
                }
                if (m.Length > 0)
                {
                    output.Add(new Range(matchStart, matchStart + m.Length));
                }
                cursor = matchStart + m.Length;
            }
            if (cursor < start + length)
            {
                output.Add(new Range(cursor, start + length));
            }
        }
    }

    /// <summary>
    /// For each general category, the first BMP character of that category that no literal in the pattern covers,
    /// so that a stand-in matches exactly the category classes (\p{L}, \s, [^...]) a real character would.
    /// </summary>
    private static char[] ChooseStandIns(IReadOnlyList<(int Lo, int Hi)> literals)
    {
        int categoryCount = Enum.GetValues<UnicodeCategory>().Length;
        var standIns = new char[categoryCount];
        var found = new bool[categoryCount];
        int remaining = categoryCount;
        for (int c = 0xA0; c <= 0xFFFD && remaining > 0; c++)
        {
            if (c is >= 0xD800 and <= 0xF8FF)
            {
                continue; // surrogates and private use
            }
            int cat = (int)CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (found[cat] || IsLiteral(literals, c))
            {
                continue;
            }
            standIns[cat] = (char)c;
            found[cat] = true;
            remaining--;
        }
        standIns[(int)UnicodeCategory.PrivateUse] = PrivateUseStandIn;
        for (int cat = 0; cat < categoryCount; cat++)
        {
            if (!found[cat] && cat != (int)UnicodeCategory.PrivateUse)
            {
                // No BMP character of this category (surrogates): read it as unassigned.
                standIns[cat] = standIns[(int)UnicodeCategory.OtherNotAssigned];
            }
        }
        return standIns;
    }

    private static bool IsLiteral(IReadOnlyList<(int Lo, int Hi)> literals, int c)
    {
        foreach (var (lo, hi) in literals)
        {
            if (c >= lo && c <= hi)
            {
                return true;
            }
        }
        return false;
    }
}
