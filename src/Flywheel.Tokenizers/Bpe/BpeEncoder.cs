using System.Collections.Concurrent;
using System.Text;

namespace Flywheel.Tokenizers.Bpe;

/// <summary>
/// Byte-level BPE over one text fragment (no special tokens inside): pre-tokenize into pieces, then merge the
/// bytes of each piece by merge rank, lowest rank first, leftmost first on ties (llama.cpp's
/// llm_tokenizer_bpe_session and HF tokenizers' BPE::merge_word agree on this order).
/// Merges are kept by token id: (left id, right id) → (rank, merged id), so a merge step is a dictionary hit
/// and no strings are built. Thread-safety: safe for concurrent use; the piece cache is concurrent.
/// </summary>
internal sealed class BpeEncoder : IFragmentEncoder
{
    /// <summary>Cache bound: past this many distinct pieces the cache is dropped and refilled.</summary>
    private const int MaxCachedPieces = 65536;

    /// <summary>Pieces at most this long (UTF-16 units) are cached; longer ones are rare and would crowd the cache.</summary>
    private const int MaxCachedPieceLength = 64;

    private readonly Vocabulary _vocab;
    private readonly PreTokenizer _preTokenizer;
    private readonly Dictionary<long, Merge> _merges;
    private readonly int[] _byteTokens = new int[256];
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <param name="merges">Merge rules in rank order, each "left right" (GGUF, HF string form) or a pair.</param>
    public BpeEncoder(Vocabulary vocab, PreTokenizer preTokenizer, IReadOnlyList<MergeRule> merges, bool ignoreMerges)
    {
        _vocab = vocab;
        _preTokenizer = preTokenizer;
        _ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++)
        {
            _byteTokens[b] = vocab.Find(ByteLevel.CharFor((byte)b).ToString()) ?? -1;
        }

        _merges = new Dictionary<long, Merge>(merges.Count);
        Span<char> joined = stackalloc char[256];
        for (int rank = 0; rank < merges.Count; rank++)
        {
            merges[rank].GetParts(out var left, out var right);
            if (left.Length + right.Length > joined.Length)
            {
                joined = new char[left.Length + right.Length];
            }
            left.CopyTo(joined);
            right.CopyTo(joined[left.Length..]);
            // A merge whose parts or result are not tokens can never fire on ids; HF tokenizers rejects such files.
            if (vocab.TryFind(left, out int l) && vocab.TryFind(right, out int r)
                && vocab.TryFind(joined[..(left.Length + right.Length)], out int m))
            {
                _merges.TryAdd(Key(l, r), new Merge(rank, m));
            }
        }
    }

    public PreTokenizer PreTokenizer => _preTokenizer;

    public int MergeCount => _merges.Count;

    public void Encode(string text, bool atStartOrAfterSpecial, List<int> output)
    {
        var pieces = new List<Range>();
        _preTokenizer.Split(text, pieces);
        foreach (var piece in pieces)
        {
            var span = text.AsSpan()[piece];
            if (span.Length <= MaxCachedPieceLength)
            {
                var key = span.ToString();
                if (!_cache.TryGetValue(key, out var ids))
                {
                    var list = new List<int>();
                    EncodePiece(span, list);
                    ids = [.. list];
                    if (_cache.Count >= MaxCachedPieces)
                    {
                        _cache.Clear();
                    }
                    _cache.TryAdd(key, ids);
                }
                output.AddRange(ids);
            }
            else
            {
                EncodePiece(span, output);
            }
        }
    }

    private void EncodePiece(ReadOnlySpan<char> piece, List<int> output)
    {
        int byteCount = Encoding.UTF8.GetByteCount(piece);
        Span<byte> bytes = byteCount <= 512 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(piece, bytes);

        if (_ignoreMerges || byteCount == 1)
        {
            Span<char> mapped = byteCount <= 512 ? stackalloc char[byteCount] : new char[byteCount];
            ByteLevel.Encode(bytes, mapped);
            if (_vocab.TryFind(mapped, out int whole))
            {
                output.Add(whole);
                return;
            }
        }

        int n = bytes.Length;
        var ids = new int[n];
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = _byteTokens[bytes[i]];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        // Priority: rank in the high half, left position in the low half: lowest rank first, then leftmost.
        var queue = new PriorityQueue<(int Left, int Right, int LeftId, int RightId, int Merged), long>();
        void Offer(int left, int right)
        {
            if (left < 0 || right < 0 || ids[left] < 0 || ids[right] < 0)
            {
                return;
            }
            if (_merges.TryGetValue(Key(ids[left], ids[right]), out var merge))
            {
                queue.Enqueue((left, right, ids[left], ids[right], merge.Result), ((long)merge.Rank << 32) | (uint)left);
            }
        }

        for (int i = 1; i < n; i++)
        {
            Offer(i - 1, i);
        }
        while (queue.TryDequeue(out var pair, out _))
        {
            // Stale entries: either side has merged since the pair was queued.
            if (ids[pair.Left] != pair.LeftId || ids[pair.Right] != pair.RightId || next[pair.Left] != pair.Right)
            {
                continue;
            }
            ids[pair.Left] = pair.Merged;
            ids[pair.Right] = int.MinValue; // dead
            int after = next[pair.Right];
            next[pair.Left] = after;
            if (after >= 0)
            {
                prev[after] = pair.Left;
            }
            Offer(prev[pair.Left], pair.Left);
            Offer(pair.Left, after);
        }

        for (int i = 0; i >= 0; i = next[i])
        {
            // A byte with no token of its own is dropped, as llama.cpp does when text_to_token finds nothing.
            if (ids[i] >= 0)
            {
                output.Add(ids[i]);
            }
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private readonly record struct Merge(int Rank, int Result);
}
