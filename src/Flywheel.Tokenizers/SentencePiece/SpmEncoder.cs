using System.Text;

namespace Flywheel.Tokenizers.SentencePiece;

/// <summary>
/// SentencePiece-style BPE as llama.cpp's llm_tokenizer_spm runs it over a GGUF vocabulary with scores:
/// spaces become ▁ (U+2581), optionally after a dummy-prefix space; the text starts as one symbol per code point;
/// the adjacent pair whose concatenation is a vocabulary token with the highest score merges first (leftmost on
/// ties), until no pair forms a token. A final symbol that is not a token is written as its UTF-8 bytes through
/// the &lt;0xXX&gt; byte-fallback tokens.
/// Thread-safety: immutable; safe for concurrent use.
/// </summary>
internal sealed class SpmEncoder : IFragmentEncoder
{
    private const char SpaceMarker = '\u2581';

    private readonly Vocabulary _vocab;
    private readonly float[] _scores;
    private readonly bool _addSpacePrefix;
    private readonly int[] _byteTokens = new int[256];

    public SpmEncoder(Vocabulary vocab, bool addSpacePrefix, int? unknownId)
    {
        _vocab = vocab;
        _scores = vocab.Scores ?? new float[vocab.Count];
        _addSpacePrefix = addSpacePrefix;
        for (int b = 0; b < 256; b++)
        {
            // llama.cpp's byte_to_token: "<0xXX>", else the byte itself as a one-character token.
            _byteTokens[b] = vocab.Find($"<0x{b:X2}>")
                ?? (b < 0x80 ? vocab.Find(((char)b).ToString()) : null)
                ?? unknownId
                ?? -1;
        }
    }

    public void Encode(string text, bool atStartOrAfterSpecial, List<int> output)
    {
        string escaped = (_addSpacePrefix && atStartOrAfterSpecial ? " " + text : text).Replace(' ', SpaceMarker);
        if (escaped.Length == 0)
        {
            return;
        }

        // Symbols: one per code point, as UTF-16 offset and length in 'escaped', linked left to right.
        int count = 0;
        var start = new int[escaped.Length];
        var length = new int[escaped.Length];
        for (int i = 0; i < escaped.Length; count++)
        {
            int width = char.IsHighSurrogate(escaped[i]) && i + 1 < escaped.Length && char.IsLowSurrogate(escaped[i + 1]) ? 2 : 1;
            start[count] = i;
            length[count] = width;
            i += width;
        }
        var prev = new int[count];
        var next = new int[count];
        for (int i = 0; i < count; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
        }

        // Highest score first, then lowest left index (llm_bigram_spm::comparator).
        var queue = new PriorityQueue<(int Left, int Right, int Size), (float Score, int Left)>(BigramOrder.Instance);
        void Offer(int left, int right)
        {
            if (left < 0 || right < 0)
            {
                return;
            }
            int size = length[left] + length[right];
            if (_vocab.TryFind(escaped.AsSpan(start[left], size), out int id))
            {
                queue.Enqueue((left, right, size), (_scores[id], left));
            }
        }

        for (int i = 1; i < count; i++)
        {
            Offer(i - 1, i);
        }
        while (queue.TryDequeue(out var bigram, out _))
        {
            // Stale when either side has merged since: a merge only ever grows the left symbol and empties the right.
            if (length[bigram.Left] == 0 || length[bigram.Right] == 0 || length[bigram.Left] + length[bigram.Right] != bigram.Size)
            {
                continue;
            }
            length[bigram.Left] = bigram.Size;
            length[bigram.Right] = 0;
            int after = next[bigram.Right];
            next[bigram.Left] = after;
            if (after >= 0)
            {
                prev[after] = bigram.Left;
            }
            Offer(prev[bigram.Left], bigram.Left);
            Offer(bigram.Left, after);
        }

        Span<byte> utf8 = stackalloc byte[8];
        for (int i = 0; i >= 0; i = next[i])
        {
            var symbol = escaped.AsSpan(start[i], length[i]);
            if (_vocab.TryFind(symbol, out int id))
            {
                output.Add(id);
                continue;
            }
            int n = Encoding.UTF8.GetBytes(symbol, utf8);
            for (int k = 0; k < n; k++)
            {
                if (_byteTokens[utf8[k]] >= 0)
                {
                    output.Add(_byteTokens[utf8[k]]);
                }
            }
        }
    }

    private sealed class BigramOrder : IComparer<(float Score, int Left)>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare((float Score, int Left) x, (float Score, int Left) y)
        {
            int byScore = y.Score.CompareTo(x.Score);
            return byScore != 0 ? byScore : x.Left.CompareTo(y.Left);
        }
    }
}
