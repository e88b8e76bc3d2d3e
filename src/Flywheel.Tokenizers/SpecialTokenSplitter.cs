namespace Flywheel.Tokenizers;

/// <summary>
/// Cuts special-token text out of the input before the model's own segmentation runs, as llama.cpp's
/// tokenizer_st_partition does: tokens are tried longest text first; each one splits every remaining plain
/// fragment at all its occurrences, left to right. Control and unknown tokens take part only when the caller
/// asks to parse specials; user-defined tokens always do (llama.cpp and HF tokenizers both pre-split
/// non-special added tokens). Thread-safety: immutable.
/// </summary>
internal sealed class SpecialTokenSplitter
{
    private readonly Entry[] _entries;

    public SpecialTokenSplitter(Vocabulary vocab, IReadOnlySet<int>? stripLeft = null, IReadOnlySet<int>? stripRight = null)
    {
        var entries = new List<Entry>();
        for (int id = 0; id < vocab.Count; id++)
        {
            var type = vocab.Types[id];
            if (type is TokenType.Control or TokenType.UserDefined or TokenType.Unknown && vocab.Texts[id].Length > 0)
            {
                entries.Add(new Entry(vocab.Texts[id], id, type == TokenType.UserDefined,
                    stripLeft?.Contains(id) ?? false, stripRight?.Contains(id) ?? false));
            }
        }
        // Longest first; among equals by id, so the order does not depend on a sort's stability.
        _entries = [.. entries.OrderByDescending(e => e.Text.Length).ThenBy(e => e.Id)];
    }

    /// <summary>A plain stretch of text (<see cref="Token"/> &lt; 0) or one special token.</summary>
    public readonly record struct Fragment(int Start, int Length, int Token)
    {
        public bool IsText => Token < 0;
    }

    public List<Fragment> Split(string text, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0)
        {
            return fragments;
        }
        fragments.Add(new Fragment(0, text.Length, -1));
        var next = new List<Fragment>();
        foreach (var entry in _entries)
        {
            if (!parseSpecial && !entry.AlwaysMatched)
            {
                continue;
            }
            if (!text.Contains(entry.Text, StringComparison.Ordinal))
            {
                continue;
            }
            next.Clear();
            foreach (var fragment in fragments)
            {
                if (fragment.IsText)
                {
                    SplitFragment(text, fragment, entry, next);
                }
                else
                {
                    next.Add(fragment);
                }
            }
            (fragments, next) = (next, fragments);
        }
        return fragments;
    }

    private static void SplitFragment(string text, Fragment fragment, Entry entry, List<Fragment> output)
    {
        int start = fragment.Start;
        int end = fragment.Start + fragment.Length;
        while (start < end)
        {
            int match = text.AsSpan(start, end - start).IndexOf(entry.Text, StringComparison.Ordinal);
            if (match < 0)
            {
                break;
            }
            match += start;
            int leftEnd = match;
            if (entry.StripLeft)
            {
                while (leftEnd > start && char.IsWhiteSpace(text[leftEnd - 1]))
                {
                    leftEnd--;
                }
            }
            if (leftEnd > start)
            {
                output.Add(new Fragment(start, leftEnd - start, -1));
            }
            output.Add(new Fragment(match, entry.Text.Length, entry.Id));
            start = match + entry.Text.Length;
            if (entry.StripRight)
            {
                while (start < end && char.IsWhiteSpace(text[start]))
                {
                    start++;
                }
            }
        }
        if (start < end)
        {
            output.Add(new Fragment(start, end - start, -1));
        }
    }

    private sealed record Entry(string Text, int Id, bool AlwaysMatched, bool StripLeft, bool StripRight);
}
