using System.Runtime.CompilerServices;
using Flywheel.Tokenizers;

namespace Flywheel.Engine.Constraints;

/// <summary>
/// A byte trie over a tokenizer's vocabulary (the bytes each token decodes to). Walking it with a matcher prunes
/// whole subtrees at the first refused byte, so a full token mask visits only the prefixes the grammar allows.
/// Control, unknown and unused tokens are left out; stop tokens are decided by the constraint. Built once per
/// tokenizer (<see cref="For"/>); immutable and thread-safe.
/// </summary>
public sealed class VocabularyTrie
{
    private static readonly ConditionalWeakTable<ITokenizer, VocabularyTrie> Cache = new();

    private readonly byte[]?[] _tokenBytes;        // [n_vocab] bytes of each token, null when left out
    private readonly int[] _plainChars;            // [n_vocab] code points of a token that is plain string text, else −1
    private readonly int[] _notPlain;              // ids of the tokens in the trie that are not plain string text
    private readonly List<Node> _nodes = [new()];  // node 0 is the root

    private sealed class Node
    {
        public byte[] ChildBytes = [];
        public int[] Children = [];
        public int[] Tokens = [];
    }

    private VocabularyTrie(ITokenizer tokenizer)
    {
        VocabSize = tokenizer.VocabSize;
        _tokenBytes = new byte[VocabSize][];
        _plainChars = new int[VocabSize];
        Array.Fill(_plainChars, -1);
        var notPlain = new List<int>();
        var children = new List<Dictionary<byte, int>> { new() };
        var tokens = new List<List<int>> { new() };
        for (var id = 0; id < VocabSize; id++)
        {
            if (tokenizer.GetTokenType(id) is TokenType.Control or TokenType.Unknown or TokenType.Unused) continue;
            var bytes = tokenizer.TokenBytes(id);
            if (bytes.Length == 0) continue;
            _tokenBytes[id] = bytes;
            _plainChars[id] = PlainChars(bytes);
            if (_plainChars[id] < 0) notPlain.Add(id);
            var node = 0;
            foreach (var b in bytes)
            {
                if (!children[node].TryGetValue(b, out var child))
                {
                    child = children.Count;
                    children[node][b] = child;
                    children.Add([]);
                    tokens.Add([]);
                }
                node = child;
            }
            tokens[node].Add(id);
        }
        _notPlain = [.. notPlain];
        _nodes.Clear();
        for (var i = 0; i < children.Count; i++)
        {
            var ordered = children[i].OrderBy(kv => kv.Key).ToArray();
            _nodes.Add(new Node { ChildBytes = ordered.Select(kv => kv.Key).ToArray(), Children = ordered.Select(kv => kv.Value).ToArray(), Tokens = [.. tokens[i]] });
        }
    }

    public static VocabularyTrie For(ITokenizer tokenizer) => Cache.GetValue(tokenizer, static t => new VocabularyTrie(t));

    public int VocabSize { get; }

    /// <summary>Trie nodes (for tests and sizing).</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>The bytes of <paramref name="id"/>, or null for a token the trie leaves out.</summary>
    public byte[]? TokenBytes(int id) => (uint)id < (uint)_tokenBytes.Length ? _tokenBytes[id] : null;

    /// <summary>
    /// Code points of <paramref name="id"/> when its bytes are plain JSON string text (complete UTF-8 characters, no
    /// quote, backslash or control character), which any open string takes while it has room; otherwise −1.
    /// </summary>
    public int PlainStringChars(int id) => (uint)id < (uint)_plainChars.Length ? _plainChars[id] : -1;

    /// <summary>Tokens in the trie that are not plain string text (quotes, escapes, pieces of characters, ...).</summary>
    public ReadOnlySpan<int> NotPlainTokens => _notPlain;

    private static int PlainChars(byte[] bytes)
    {
        foreach (var b in bytes)
        {
            if (b < 0x20 || b == (byte)'"' || b == (byte)'\\') return -1;
        }
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) return -1;
        return System.Text.Encoding.UTF8.GetCharCount(bytes) - CountSurrogatePairs(bytes);
    }

    /// <summary>Four-byte UTF-8 characters, which are two UTF-16 chars but one code point.</summary>
    private static int CountSurrogatePairs(byte[] bytes)
    {
        var n = 0;
        foreach (var b in bytes)
        {
            if (b >= 0xF0) n++;
        }
        return n;
    }

    /// <summary>
    /// Sets the bit of every token whose bytes <paramref name="states"/> all accept and, when <paramref name="keep"/>
    /// is given, whose resulting states it keeps (mask must be cleared by the caller).
    /// </summary>
    internal void Walk(IReadOnlyList<MatchStack> states, Span<ulong> mask, Func<List<MatchStack>, bool>? keep = null)
    {
        var levels = new List<List<MatchStack>>();
        Walk(0, states, mask, levels, 0, keep);
    }

    /// <summary>
    /// The only token whose bytes start with <paramref name="first"/> that <paramref name="states"/> accept (and
    /// <paramref name="keep"/> keeps), or −1 when there is none or more than one (the walk stops at the second).
    /// </summary>
    internal int OnlyToken(IReadOnlyList<MatchStack> states, byte first, Func<List<MatchStack>, bool>? keep)
    {
        var root = _nodes[0];
        var i = Array.IndexOf(root.ChildBytes, first);
        if (i < 0) return -1;
        var found = -1;
        var count = 0;
        Find(root.Children[i], first, states, keep, ref found, ref count);
        return count == 1 ? found : -1;
    }

    private void Find(int node, byte b, IReadOnlyList<MatchStack> states, Func<List<MatchStack>, bool>? keep, ref int found, ref int count)
    {
        var next = new List<MatchStack>();
        JsonMatcher.Step(states, b, next);
        if (next.Count == 0) return;
        var n = _nodes[node];
        if (n.Tokens.Length > 0 && (keep is null || keep(next)))
        {
            count += n.Tokens.Length;
            found = n.Tokens[0];
            if (count > 1) return;
        }
        for (var i = 0; i < n.Children.Length && count <= 1; i++) Find(n.Children[i], n.ChildBytes[i], next, keep, ref found, ref count);
    }

    private void Walk(int node, IReadOnlyList<MatchStack> states, Span<ulong> mask, List<List<MatchStack>> levels, int depth, Func<List<MatchStack>, bool>? keep)
    {
        if (levels.Count == depth) levels.Add([]);
        var next = levels[depth];
        var n = _nodes[node];
        for (var i = 0; i < n.Children.Length; i++)
        {
            next.Clear();
            JsonMatcher.Step(states, n.ChildBytes[i], next);
            if (next.Count == 0) continue;
            var child = _nodes[n.Children[i]];
            if (child.Tokens.Length > 0 && (keep is null || keep(next)))
            {
                foreach (var id in child.Tokens) mask[id >> 6] |= 1UL << (id & 63);
            }
            if (child.Children.Length > 0)
            {
                // The deeper level reuses its own list, so this level's survivors stay intact while it runs.
                Walk(n.Children[i], next, mask, levels, depth + 1, keep);
            }
        }
    }
}
