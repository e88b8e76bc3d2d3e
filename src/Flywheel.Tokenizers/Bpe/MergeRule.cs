namespace Flywheel.Tokenizers.Bpe;

/// <summary>
/// One BPE merge as files store it: a single "left right" string (GGUF, HF's older form), split at the first
/// space after the first character as llama.cpp does, or an explicit pair (HF's newer form).
/// </summary>
internal readonly struct MergeRule
{
    private readonly string _first;
    private readonly string? _second;

    private MergeRule(string first, string? second)
    {
        _first = first;
        _second = second;
    }

    public static MergeRule FromLine(string line) => new(line, null);

    public static MergeRule FromPair(string left, string right) => new(left, right);

    public void GetParts(out ReadOnlySpan<char> left, out ReadOnlySpan<char> right)
    {
        if (_second is not null)
        {
            left = _first;
            right = _second;
            return;
        }
        int space = _first.Length > 1 ? _first.IndexOf(' ', 1) : -1;
        left = space < 0 ? _first : _first.AsSpan(0, space);
        right = space < 0 ? [] : _first.AsSpan(space + 1);
    }
}
