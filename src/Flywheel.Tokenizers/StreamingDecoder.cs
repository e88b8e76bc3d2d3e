using System.Text;

namespace Flywheel.Tokenizers;

/// <summary>
/// Turns a stream of token ids into text without ever splitting a UTF-8 character between two chunks. A token
/// may end in the middle of a character (byte tokens, or BPE pieces that cut a CJK character or an emoji);
/// those bytes are held back until a later token completes them. Bytes that can never become a character
/// are written as U+FFFD straight away; an incomplete character left at the end becomes U+FFFD in
/// <see cref="Flush"/>. The concatenation of all chunks equals <see cref="ITokenizer.Decode"/> of the same ids
/// (with <c>stripLeadingSpace</c> = <see cref="ITokenizer.AddSpacePrefix"/>).
/// <para>Not thread-safe: one instance per stream. Call order: any number of <see cref="Append"/>, then
/// <see cref="Flush"/>; after Flush the decoder is empty and may start a new stream.</para>
/// </summary>
public sealed class StreamingDecoder
{
    private readonly ITokenizer _tokenizer;
    private readonly bool _skipSpecial;
    private readonly bool _stripLeadingSpace;
    private byte[] _pending = new byte[16];
    private int _pendingCount;
    private bool _atStart = true;

    /// <param name="tokenizer">The tokenizer whose ids will be fed.</param>
    /// <param name="skipSpecial">Leave out control and unknown tokens (EOS, &lt;|im_end|&gt;, ...).</param>
    /// <param name="stripLeadingSpace">Drop one space at the very start of the stream: SentencePiece's dummy prefix.
    /// Leave false when decoding a continuation (generated text after a prompt), where that space is real.</param>
    public StreamingDecoder(ITokenizer tokenizer, bool skipSpecial = false, bool stripLeadingSpace = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _skipSpecial = skipSpecial;
        _stripLeadingSpace = stripLeadingSpace;
    }

    /// <summary>Number of bytes held back waiting for the rest of a character (0 to 3).</summary>
    public int PendingByteCount => _pendingCount;

    /// <summary>Adds one token; returns the text that is complete now (possibly empty).</summary>
    public string Append(int id)
    {
        var piece = PieceOf(id);
        if (piece.Length == 0)
        {
            return "";
        }
        if (_atStart && _stripLeadingSpace && piece[0] == (byte)' ')
        {
            piece = piece[1..];
        }
        _atStart = false;
        if (_pendingCount == 0 && IsAscii(piece))
        {
            return Encoding.ASCII.GetString(piece);
        }

        EnsureCapacity(_pendingCount + piece.Length);
        piece.CopyTo(_pending.AsSpan(_pendingCount));
        _pendingCount += piece.Length;
        var text = new StringBuilder(_pendingCount);
        int consumed = Utf8Text.DecodeLossy(_pending.AsSpan(0, _pendingCount), text, final: false);
        _pending.AsSpan(consumed, _pendingCount - consumed).CopyTo(_pending);
        _pendingCount -= consumed;
        return text.ToString();
    }

    /// <summary>Adds several tokens; returns the text that is complete after the last one.</summary>
    public string Append(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        foreach (int id in ids)
        {
            text.Append(Append(id));
        }
        return text.ToString();
    }

    /// <summary>Ends the stream: returns what was held back (an unfinished character becomes U+FFFD) and resets.</summary>
    public string Flush()
    {
        var text = new StringBuilder();
        Utf8Text.DecodeLossy(_pending.AsSpan(0, _pendingCount), text, final: true);
        Reset();
        return text.ToString();
    }

    /// <summary>Drops anything held back and starts a new stream.</summary>
    public void Reset()
    {
        _pendingCount = 0;
        _atStart = true;
    }

    private ReadOnlySpan<byte> PieceOf(int id)
    {
        if (_tokenizer is Tokenizer own)
        {
            return own.PieceOf(id, _skipSpecial);
        }
        if (_skipSpecial && _tokenizer.GetTokenType(id) is TokenType.Control or TokenType.Unknown)
        {
            return [];
        }
        return _tokenizer.TokenBytes(id);
    }

    private static bool IsAscii(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExceptInRange((byte)0, (byte)0x7F);

    private void EnsureCapacity(int needed)
    {
        if (needed > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Max(needed, _pending.Length * 2));
        }
    }
}
