using System.Text;
using System.Text.Json;

namespace Flywheel.Store.Datasets;

/// <summary>
/// Finds near-duplicate conversations. The rule: two examples are duplicates when their normalised texts (every
/// message as "role: content", lower-cased, runs of whitespace made one space) are equal, or when the Jaccard
/// similarity of their sets of character 5-grams is at least 0.9. MinHash (128 hashes, banded 16 × 8 for
/// locality-sensitive hashing) only proposes candidates; each candidate is confirmed with the exact Jaccard, so
/// the result does not depend on hash luck beyond a pair at 0.9 being missed with probability about 1e-4.
/// Examples are offered in priority order; the first of a group is kept. Not thread-safe.
/// </summary>
public sealed class NearDuplicates
{
    public const double Threshold = 0.9;
    public const int ShingleLength = 5;
    private const int Bands = 16;
    private const int Rows = 8;
    private const int Hashes = Bands * Rows;

    private readonly HashSet<string> _exact = new(StringComparer.Ordinal);
    private readonly List<HashSet<ulong>> _kept = [];
    private readonly Dictionary<(int Band, ulong Key), List<int>> _buckets = [];

    /// <summary>True when <paramref name="messagesJson"/> duplicates an example kept before; otherwise keeps it and returns false.</summary>
    public bool IsDuplicate(string messagesJson)
    {
        string text = Normalise(messagesJson);
        if (!_exact.Add(text))
        {
            return true;
        }
        var shingles = Shingles(text);
        var signature = Signature(shingles);
        var bandKeys = new ulong[Bands];
        var candidates = new HashSet<int>();
        for (int b = 0; b < Bands; b++)
        {
            ulong key = 14695981039346656037;
            for (int r = 0; r < Rows; r++) key = Mix(key ^ signature[b * Rows + r]);
            bandKeys[b] = key;
            if (_buckets.TryGetValue((b, key), out var list)) candidates.UnionWith(list);
        }
        foreach (int c in candidates)
        {
            if (Jaccard(shingles, _kept[c]) >= Threshold) return true;
        }
        int index = _kept.Count;
        _kept.Add(shingles);
        for (int b = 0; b < Bands; b++)
        {
            if (!_buckets.TryGetValue((b, bandKeys[b]), out var list)) _buckets[(b, bandKeys[b])] = list = [];
            list.Add(index);
        }
        return false;
    }

    /// <summary>"role: content" per message, lower-case, whitespace runs collapsed, trimmed.</summary>
    public static string Normalise(string messagesJson)
    {
        var raw = new StringBuilder();
        using (var doc = JsonDocument.Parse(messagesJson))
        {
            foreach (var m in doc.RootElement.EnumerateArray())
            {
                raw.Append(m.TryGetProperty("role", out var role) ? role.ToString() : "").Append(": ");
                if (m.TryGetProperty("content", out var content))
                {
                    raw.Append(content.ValueKind == JsonValueKind.String ? content.GetString() : content.GetRawText());
                }
                if (m.TryGetProperty("tool_calls", out var calls)) raw.Append(' ').Append(calls.GetRawText());
                raw.Append('\n');
            }
        }
        var normal = new StringBuilder(raw.Length);
        bool space = false;
        foreach (char c in raw.ToString())
        {
            if (char.IsWhiteSpace(c))
            {
                space = normal.Length > 0;
                continue;
            }
            if (space) normal.Append(' ');
            space = false;
            normal.Append(char.ToLowerInvariant(c));
        }
        return normal.ToString();
    }

    /// <summary>Jaccard similarity of two normalised texts' 5-gram sets (for tests and documentation).</summary>
    public static double Similarity(string a, string b) => Jaccard(Shingles(Normalise(a)), Shingles(Normalise(b)));

    private static HashSet<ulong> Shingles(string text)
    {
        var set = new HashSet<ulong>();
        if (text.Length <= ShingleLength)
        {
            set.Add(Fnv(text.AsSpan()));
            return set;
        }
        for (int i = 0; i + ShingleLength <= text.Length; i++)
        {
            set.Add(Fnv(text.AsSpan(i, ShingleLength)));
        }
        return set;
    }

    private static ulong[] Signature(HashSet<ulong> shingles)
    {
        var signature = new ulong[Hashes];
        Array.Fill(signature, ulong.MaxValue);
        foreach (ulong s in shingles)
        {
            for (int h = 0; h < Hashes; h++)
            {
                // Hash function h is the SplitMix64 finaliser of the shingle hash xor a per-function constant.
                ulong v = Mix(s ^ (0x9E3779B97F4A7C15UL * (ulong)(h + 1)));
                if (v < signature[h]) signature[h] = v;
            }
        }
        return signature;
    }

    private static double Jaccard(HashSet<ulong> a, HashSet<ulong> b)
    {
        if (a.Count > b.Count) (a, b) = (b, a);
        int common = 0;
        foreach (ulong x in a) if (b.Contains(x)) common++;
        int union = a.Count + b.Count - common;
        return union == 0 ? 1 : (double)common / union;
    }

    private static ulong Fnv(ReadOnlySpan<char> text)
    {
        ulong hash = 14695981039346656037;
        foreach (char c in text) hash = (hash ^ c) * 1099511628211;
        return hash;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
