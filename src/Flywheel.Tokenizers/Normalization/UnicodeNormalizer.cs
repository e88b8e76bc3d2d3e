using System.Globalization;
using System.Text;

namespace Flywheel.Tokenizers.Normalization;

/// <summary>
/// Canonical Unicode normalization (NFD and NFC) in managed code, for tokenizer.json normalizers. The algorithm is
/// UAX #15's: full canonical decomposition (Hangul syllables arithmetically), canonical ordering of combining
/// marks, then canonical composition where a mark composes with the last starter unless blocked by a mark of the
/// same or higher class. Data: <see cref="UnicodeNormalizationData"/>. Thread-safety: static, immutable.
/// </summary>
internal static class UnicodeNormalizer
{
    // Hangul syllable arithmetic (Unicode §3.12).
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<Tables> Data = new(Build);

    public static string ToNfc(string text) => IsTriviallyNormalized(text) ? text : Normalize(text, compose: true);

    public static string ToNfd(string text) => IsTriviallyNormalized(text) ? text : Normalize(text, compose: false);

    /// <summary>Text below U+00C0 has no decompositions and nothing that composes, in either form.</summary>
    private static bool IsTriviallyNormalized(string text) => !text.AsSpan().ContainsAnyExceptInRange('\0', '\u00BF');

    private static string Normalize(string text, bool compose)
    {
        var tables = Data.Value;
        var buffer = new List<int>(text.Length + 8);
        for (int i = 0; i < text.Length;)
        {
            int cp = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])
                ? char.ConvertToUtf32(text[i], text[i + 1])
                : text[i];
            i += cp > 0xFFFF ? 2 : 1;
            Decompose(cp, tables, buffer);
        }
        SortMarks(buffer, tables);
        if (compose)
        {
            Compose(buffer, tables);
        }
        var output = new StringBuilder(buffer.Count);
        foreach (int cp in buffer)
        {
            if (cp > 0xFFFF)
            {
                output.Append(char.ConvertFromUtf32(cp));
            }
            else
            {
                output.Append((char)cp);
            }
        }
        return output.ToString();
    }

    private static void Decompose(int cp, Tables tables, List<int> output)
    {
        int s = cp - SBase;
        if (s is >= 0 and < SCount)
        {
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0)
            {
                output.Add(TBase + s % TCount);
            }
            return;
        }
        if (tables.Decompositions.TryGetValue(cp, out var parts))
        {
            foreach (int part in parts)
            {
                Decompose(part, tables, output);
            }
            return;
        }
        output.Add(cp);
    }

    /// <summary>Canonical ordering: within each run of marks (class &gt; 0), a stable sort by class.</summary>
    private static void SortMarks(List<int> buffer, Tables tables)
    {
        for (int i = 1; i < buffer.Count; i++)
        {
            int cls = tables.ClassOf(buffer[i]);
            if (cls == 0)
            {
                continue;
            }
            for (int j = i; j > 0; j--)
            {
                int before = tables.ClassOf(buffer[j - 1]);
                if (before <= cls)
                {
                    break;
                }
                (buffer[j - 1], buffer[j]) = (buffer[j], buffer[j - 1]);
            }
        }
    }

    private static void Compose(List<int> buffer, Tables tables)
    {
        if (buffer.Count == 0)
        {
            return;
        }
        int starterPos = 0;
        int starter = buffer[0];
        int lastClass = tables.ClassOf(starter) == 0 ? 0 : 256; // a leading mark blocks everything after it
        int write = 1;
        for (int read = 1; read < buffer.Count; read++)
        {
            int cp = buffer[read];
            int cls = tables.ClassOf(cp);
            int composite = ComposePair(starter, cp, tables);
            if (composite >= 0 && (lastClass < cls || lastClass == 0))
            {
                buffer[starterPos] = composite;
                starter = composite;
                continue;
            }
            if (cls == 0)
            {
                starterPos = write;
                starter = cp;
            }
            lastClass = cls;
            buffer[write++] = cp;
        }
        buffer.RemoveRange(write, buffer.Count - write);
    }

    private static int ComposePair(int first, int second, Tables tables)
    {
        int l = first - LBase;
        if (l is >= 0 and < LCount)
        {
            int v = second - VBase;
            return v is >= 0 and < VCount ? SBase + (l * VCount + v) * TCount : -1;
        }
        int s = first - SBase;
        if (s is >= 0 and < SCount && s % TCount == 0)
        {
            int t = second - TBase;
            return t is > 0 and < TCount ? first + t : -1;
        }
        return tables.Compositions.TryGetValue(((long)first << 21) | (uint)second, out int composite) ? composite : -1;
    }

    private sealed class Tables
    {
        public Dictionary<int, byte> Classes { get; } = [];
        public Dictionary<int, int[]> Decompositions { get; } = [];
        public Dictionary<long, int> Compositions { get; } = [];

        public int ClassOf(int cp) => cp < 0x300 ? 0 : Classes.GetValueOrDefault(cp);
    }

    private static Tables Build()
    {
        var tables = new Tables();
        foreach (var entry in UnicodeNormalizationData.CombiningClasses.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var (range, cls) = (entry[..entry.IndexOf(':')], byte.Parse(entry[(entry.IndexOf(':') + 1)..], CultureInfo.InvariantCulture));
            int dash = range.IndexOf('-');
            int first = Hex(dash < 0 ? range : range[..dash]);
            int last = dash < 0 ? first : Hex(range[(dash + 1)..]);
            for (int cp = first; cp <= last; cp++)
            {
                tables.Classes[cp] = cls;
            }
        }
        foreach (var entry in UnicodeNormalizationData.Decompositions.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            bool excluded = entry[0] == '!';
            var body = excluded ? entry[1..] : entry;
            int eq = body.IndexOf('=');
            int cp = Hex(body[..eq]);
            int[] parts = [.. body[(eq + 1)..].Split(' ').Select(Hex)];
            tables.Decompositions[cp] = parts;
            if (!excluded && parts.Length == 2)
            {
                tables.Compositions[((long)parts[0] << 21) | (uint)parts[1]] = cp;
            }
        }
        return tables;
    }

    private static int Hex(string s) => int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
