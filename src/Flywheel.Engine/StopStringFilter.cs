using System.Text;

namespace Flywheel.Engine;

/// <summary>
/// Stop-string handling for one generation: text is appended piece by piece; what may be the start of a stop string
/// is held back until it cannot be, and text from the first match on is never released. Not thread-safe.
/// </summary>
public sealed class StopStringFilter
{
    private readonly IReadOnlyList<string> _stops;
    private readonly int _longest;
    private readonly StringBuilder _text = new();
    private int _emitted;

    public StopStringFilter(IReadOnlyList<string> stopStrings)
    {
        _stops = stopStrings.Where(s => s.Length > 0).ToList();
        _longest = _stops.Count == 0 ? 0 : _stops.Max(s => s.Length);
    }

    /// <summary>
    /// Appends <paramref name="piece"/> and returns the text safe to show now. When a stop string is found,
    /// <paramref name="stopped"/> is true and the returned text ends just before it.
    /// </summary>
    public string Append(string piece, out bool stopped)
    {
        _text.Append(piece);
        stopped = false;
        if (_longest == 0)
        {
            var all = _text.ToString(_emitted, _text.Length - _emitted);
            _emitted = _text.Length;
            return all;
        }
        // A match can only end in new text, so it starts at most (longest − 1) characters before it.
        var from = Math.Max(0, _emitted - _longest);
        var window = _text.ToString(from, _text.Length - from);
        var at = -1;
        foreach (var stop in _stops)
        {
            var i = window.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        if (at >= 0)
        {
            var stopAt = from + at;
            var before = _text.ToString(_emitted, Math.Max(0, stopAt - _emitted));
            _text.Length = stopAt;
            _emitted = stopAt;
            stopped = true;
            return before;
        }
        var safe = _text.Length - HeldBack();
        var chunk = safe > _emitted ? _text.ToString(_emitted, safe - _emitted) : "";
        _emitted = Math.Max(_emitted, safe);
        return chunk;
    }

    /// <summary>Releases whatever is held back (the generation ended without a match).</summary>
    public string Flush()
    {
        var rest = _text.ToString(_emitted, _text.Length - _emitted);
        _emitted = _text.Length;
        return rest;
    }

    /// <summary>Length of the longest suffix of the text that is a proper prefix of a stop string.</summary>
    private int HeldBack()
    {
        var held = 0;
        foreach (var stop in _stops)
        {
            for (var len = Math.Min(stop.Length - 1, _text.Length); len > held; len--)
            {
                var match = true;
                for (var i = 0; i < len && match; i++) match = _text[_text.Length - len + i] == stop[i];
                if (match)
                {
                    held = len;
                    break;
                }
            }
        }
        return held;
    }
}
