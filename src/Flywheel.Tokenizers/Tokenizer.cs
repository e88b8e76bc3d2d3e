using System.Text;

namespace Flywheel.Tokenizers;

/// <summary>
/// A loaded tokenizer: byte-level BPE or SentencePiece over one vocabulary, with special-token handling.
/// Build one with <see cref="TokenizerLoader"/>. Immutable; every member is safe to call from many threads.
/// </summary>
public sealed class Tokenizer : ITokenizer
{
    private readonly Vocabulary _vocab;
    private readonly IFragmentEncoder _encoder;
    private readonly SpecialTokenSplitter _specials;
    private readonly Func<string, string>? _normalize;

    internal Tokenizer(TokenizerSetup setup)
    {
        _vocab = setup.Vocabulary;
        _encoder = setup.Encoder;
        _normalize = setup.Normalize;
        EndOfGeneration.MarkControlTokens(_vocab);
        _specials = new SpecialTokenSplitter(_vocab, setup.StripLeft, setup.StripRight);
        Kind = setup.Kind;
        PreTokenizerName = setup.PreTokenizerName;
        BosId = Checked(setup.BosId);
        EosId = Checked(setup.EosId);
        UnknownId = Checked(setup.UnknownId);
        PaddingId = Checked(setup.PaddingId);
        EotId = Checked(setup.EotId) ?? EndOfGeneration.FindEot(_vocab);
        EomId = Checked(setup.EomId) ?? EndOfGeneration.FindEom(_vocab);
        AddBos = setup.AddBos && BosId is not null;
        AddEos = setup.AddEos && EosId is not null;
        AddSpacePrefix = setup.AddSpacePrefix;
        EndOfGenerationIds = EndOfGeneration.Collect(_vocab, EosId, EotId, EomId);
    }

    public TokenizerKind Kind { get; }

    /// <summary>The pre-tokenizer family name (GGUF <c>tokenizer.ggml.pre</c>, or "tokenizer.json"); null for SentencePiece.</summary>
    public string? PreTokenizerName { get; }

    public int VocabSize => _vocab.Count;
    public int? BosId { get; }
    public int? EosId { get; }
    public int? EotId { get; }
    public int? EomId { get; }
    public int? UnknownId { get; }
    public int? PaddingId { get; }
    public bool AddBos { get; }
    public bool AddEos { get; }
    public bool AddSpacePrefix { get; }
    public IReadOnlySet<int> EndOfGenerationIds { get; }

    public IReadOnlyList<int> Encode(string text, bool addSpecial = false, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = Utf8Text.Sanitize(text);
        var output = new List<int>();
        if (addSpecial && AddBos)
        {
            output.Add(BosId!.Value);
        }

        bool afterSpecial = true;
        foreach (var fragment in _specials.Split(text, parseSpecial))
        {
            if (!fragment.IsText)
            {
                output.Add(fragment.Token);
                afterSpecial = true;
                continue;
            }
            string plain = text.Substring(fragment.Start, fragment.Length);
            if (_normalize is not null)
            {
                // HF normalizers run after added tokens are cut out (their text is matched un-normalized).
                plain = _normalize(plain);
            }
            _encoder.Encode(plain, afterSpecial, output);
            afterSpecial = false;
        }

        if (addSpecial && AddEos)
        {
            output.Add(EosId!.Value);
        }
        return output;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        bool first = true;
        foreach (int id in ids)
        {
            var piece = PieceOf(id, skipSpecial);
            if (piece.Length == 0)
            {
                continue;
            }
            if (first && AddSpacePrefix && piece[0] == (byte)' ')
            {
                // The dummy prefix added when encoding is not part of the text (HF's Strip decoder, llama.cpp's lstrip).
                piece = piece[1..];
            }
            first = false;
            bytes.AddRange(piece);
        }
        var text = new StringBuilder(bytes.Count);
        Utf8Text.DecodeLossy(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes), text, final: true);
        return text.ToString();
    }

    public byte[] TokenBytes(int id)
    {
        CheckId(id);
        return (byte[])_vocab.Pieces[id].Clone();
    }

    public string TokenText(int id)
    {
        CheckId(id);
        return _vocab.Texts[id];
    }

    public TokenType GetTokenType(int id)
    {
        CheckId(id);
        return _vocab.Types[id];
    }

    public int? TokenId(string text) => _vocab.Find(text);

    /// <summary>Whether <see cref="Decode"/> with skipSpecial leaves the token out (control and unknown tokens).</summary>
    public bool IsSpecial(int id) => _vocab.IsValid(id) && _vocab.Types[id] is TokenType.Control or TokenType.Unknown;

    /// <summary>The decoded bytes of one token without copying, or empty when skipped.</summary>
    internal ReadOnlySpan<byte> PieceOf(int id, bool skipSpecial)
    {
        CheckId(id);
        if (skipSpecial && _vocab.Types[id] is TokenType.Control or TokenType.Unknown)
        {
            return [];
        }
        return _vocab.Pieces[id];
    }

    private void CheckId(int id)
    {
        if (!_vocab.IsValid(id))
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary (size {_vocab.Count})");
        }
    }

    private int? Checked(int? id) => id is int v && _vocab.IsValid(v) ? v : null;
}
