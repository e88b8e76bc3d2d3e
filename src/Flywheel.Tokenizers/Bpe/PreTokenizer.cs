namespace Flywheel.Tokenizers.Bpe;

/// <summary>
/// Splits text into the pieces BPE merges within ("words"), by applying each <see cref="RegexSplitRule"/> in turn
/// to the pieces of the one before (llama.cpp's regex_exprs list; HF's Sequence of Split / Digits / ByteLevel).
/// Thread-safety: immutable; <see cref="Split"/> may run on many threads.
/// </summary>
internal sealed class PreTokenizer
{
    private readonly RegexSplitRule[] _rules;

    public PreTokenizer(IEnumerable<string> patterns)
    {
        _rules = [.. patterns.Select(p => new RegexSplitRule(p))];
    }

    public IReadOnlyList<string> Patterns => [.. _rules.Select(r => r.Pattern)];

    /// <summary>Appends the pieces of <paramref name="text"/> (ranges of UTF-16 units, in order, covering it) to <paramref name="result"/>.</summary>
    public void Split(string text, List<Range> result)
    {
        if (text.Length == 0)
        {
            return;
        }
        var pieces = new List<Range> { new(0, text.Length) };
        if (_rules.Length == 0)
        {
            result.AddRange(pieces);
            return;
        }

        // Fast path: without surrogates every UTF-16 unit is one code point, so the text is its own proxy
        // (unless a rule claims private-use characters that occur in the text).
        bool hasSurrogates = text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF');
        bool hasPrivateUse = text.AsSpan().ContainsAnyInRange('\uE000', '\uE0FF');
        int[]? codePoints = null;
        int[]? charOffsets = null; // [code point index] -> UTF-16 offset, one extra entry for the end
        if (hasSurrogates)
        {
            (codePoints, charOffsets) = CodePoints(text);
            pieces[0] = new Range(0, codePoints.Length);
        }

        var next = new List<Range>();
        foreach (var rule in _rules)
        {
            string proxy = text;
            if (codePoints is not null)
            {
                proxy = BuildProxy(codePoints, rule);
            }
            else if (hasPrivateUse && rule.UsesPrivateUse)
            {
                proxy = string.Create(text.Length, (text, rule), static (span, state) =>
                {
                    for (int i = 0; i < span.Length; i++)
                    {
                        span[i] = state.rule.ProxyFor(state.text[i]);
                    }
                });
            }
            next.Clear();
            rule.Split(proxy, pieces, next);
            (pieces, next) = (next, pieces);
        }

        if (charOffsets is null)
        {
            result.AddRange(pieces);
            return;
        }
        foreach (var piece in pieces)
        {
            var (start, length) = piece.GetOffsetAndLength(codePoints!.Length);
            result.Add(new Range(charOffsets[start], charOffsets[start + length]));
        }
    }

    private static string BuildProxy(int[] codePoints, RegexSplitRule rule)
    {
        return string.Create(codePoints.Length, (codePoints, rule), static (span, state) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = state.rule.ProxyFor(state.codePoints[i]);
            }
        });
    }

    private static (int[] CodePoints, int[] CharOffsets) CodePoints(string text)
    {
        var codePoints = new List<int>(text.Length);
        var offsets = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length;)
        {
            offsets.Add(i);
            codePoints.Add(RegexTranslator.CodePointAt(text, i, out int width));
            i += width;
        }
        offsets.Add(text.Length);
        return ([.. codePoints], [.. offsets]);
    }
}
