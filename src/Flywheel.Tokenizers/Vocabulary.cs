namespace Flywheel.Tokenizers;

/// <summary>
/// The id-indexed token table: stored text, type, score, and the bytes each token decodes to.
/// Immutable once built; lookups by text allocate nothing (span-keyed alternate lookup).
/// </summary>
internal sealed class Vocabulary
{
    private readonly Dictionary<string, int> _idsByText;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _idsBySpan;

    public Vocabulary(string[] texts, TokenType[] types, float[]? scores, Func<string, TokenType, byte[]> pieceOf)
    {
        if (types.Length != texts.Length || (scores is not null && scores.Length < texts.Length))
        {
            throw new ArgumentException("token types and scores must cover every token");
        }
        Texts = texts;
        Types = types;
        Scores = scores;
        _idsByText = new Dictionary<string, int>(texts.Length, StringComparer.Ordinal);
        Pieces = new byte[texts.Length][];
        for (int id = 0; id < texts.Length; id++)
        {
            // llama.cpp keeps the last id when a text repeats (token_to_id[word] = i); do the same.
            _idsByText[texts[id]] = id;
            Pieces[id] = pieceOf(texts[id], types[id]);
        }
        _idsBySpan = _idsByText.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string[] Texts { get; }
    public TokenType[] Types { get; }
    public float[]? Scores { get; }

    /// <summary>Decoded bytes per id (control tokens: their UTF-8 text; unused tokens: empty).</summary>
    public byte[][] Pieces { get; }

    public int Count => Texts.Length;

    public int? Find(string text) => _idsByText.TryGetValue(text, out int id) ? id : null;

    public bool TryFind(ReadOnlySpan<char> text, out int id) => _idsBySpan.TryGetValue(text, out id);

    public bool IsValid(int id) => (uint)id < (uint)Texts.Length;
}
