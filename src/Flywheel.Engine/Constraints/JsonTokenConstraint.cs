namespace Flywheel.Engine.Constraints;

/// <summary>
/// Constrains a generation to a JSON document (<see cref="JsonMatcher"/>) over a tokenizer's vocabulary
/// (<see cref="VocabularyTrie"/>): a token is allowed when all its bytes keep the text a valid prefix, and a stop
/// token only when the document is complete. One per generation; not thread-safe.
/// </summary>
/// <remarks>
/// With a token limit (<c>maxTokens</c>, the most tokens the generation may produce) the document also always ends
/// within it: a token is allowed only when the bytes that would still complete the document after it
/// (<see cref="JsonMatcher.RemainingBytes"/>) fit in the tokens left after it, counting one token per byte. Tokens of
/// one byte exist for every byte in byte-level BPE and byte-fallback vocabularies, so the closing bytes can always
/// be written; as the limit nears, only tokens that close what is open remain. The count is an upper bound (a
/// token often carries several closing bytes), so closing starts early rather than late. A limit smaller than the
/// shortest document is refused up front (<see cref="TokenBudgetTooSmallException"/>).
/// </remarks>
public sealed class JsonTokenConstraint : ITokenConstraint
{
    private readonly JsonMatcher _matcher;
    private readonly VocabularyTrie _vocabulary;
    private readonly IReadOnlySet<int> _stopTokenIds;
    private readonly List<(int Room, int Deficit, int Remaining)> _strings = [];
    private int _tokensLeft;

    /// <param name="maxTokens">The most tokens the generation may produce (a stop token counts); unlimited by default.</param>
    public JsonTokenConstraint(JsonMatcher matcher, VocabularyTrie vocabulary, IReadOnlySet<int> stopTokenIds, int maxTokens = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        _matcher = matcher;
        _vocabulary = vocabulary;
        _stopTokenIds = stopTokenIds;
        _tokensLeft = maxTokens;
        if (Limited && matcher.RemainingBytes > maxTokens) throw new TokenBudgetTooSmallException(maxTokens, matcher.RemainingBytes);
    }

    public JsonMatcher Matcher => _matcher;

    /// <summary>Tokens the generation may still produce (int.MaxValue when unlimited).</summary>
    public int TokensLeft => _tokensLeft;

    private bool Limited => _tokensLeft != int.MaxValue;

    public bool Allows(int tokenId)
    {
        if (_stopTokenIds.Contains(tokenId)) return _matcher.IsAccepting;
        if (_vocabulary.TokenBytes(tokenId) is not { } bytes) return false;
        if (!Limited) return _matcher.CanAdvance(bytes);
        var after = _matcher.RemainingBytesAfter(bytes);
        return after >= 0 && after <= _tokensLeft - 1;
    }

    public void FillMask(Span<ulong> mask)
    {
        if (Limited)
        {
            FillWithin(mask, _tokensLeft - 1);
            if (mask.ContainsAnyExcept(0UL)) return;
            // Nothing closes in time: the vocabulary lacks a one-byte token the closing needs, or an undeclared key
            // collided with a used name. Stay on the grammar; the limit then cuts the text and says so.
        }
        FillWithin(mask, int.MaxValue);
    }

    /// <summary>The mask of tokens after which at most <paramref name="limit"/> bytes complete the document.</summary>
    private void FillWithin(Span<ulong> mask, int limit)
    {
        mask.Clear();
        var unlimited = limit == int.MaxValue;
        if (_matcher.OpenStrings(_strings))
        {
            // Inside a string most of the vocabulary is plain text: decide those tokens by their length alone and
            // walk only the rest (quotes, escapes, pieces of characters) byte by byte. Plain text never lengthens
            // the closing; it shortens it while minLength still wants characters.
            for (var id = 0; id < _vocabulary.VocabSize; id++)
            {
                var chars = _vocabulary.PlainStringChars(id);
                if (chars >= 0 && PlainFits(chars, limit)) mask[id >> 6] |= 1UL << (id & 63);
            }
            foreach (var id in _vocabulary.NotPlainTokens)
            {
                var bytes = _vocabulary.TokenBytes(id);
                var fits = unlimited ? _matcher.CanAdvance(bytes) : _matcher.RemainingBytesAfter(bytes) is var after && after >= 0 && after <= limit;
                if (fits) mask[id >> 6] |= 1UL << (id & 63);
            }
            return; // an open string is never a complete document, so no stop token
        }
        _vocabulary.Walk(_matcher.States, mask, unlimited ? null : next => JsonMatcher.Remaining(next) <= limit);
        if (!_matcher.IsAccepting) return;
        foreach (var id in _stopTokenIds)
        {
            if ((uint)id < (uint)_vocabulary.VocabSize) mask[id >> 6] |= 1UL << (id & 63);
        }
    }

    private bool PlainFits(int chars, int limit)
    {
        foreach (var (room, deficit, remaining) in _strings)
        {
            if (chars <= room && remaining - Math.Min(chars, deficit) <= limit) return true;
        }
        return false;
    }

    /// <summary>
    /// Forced when the text can go on with one byte only and one token alone (within the limit) begins with it: the
    /// end of a literal or a declared key in a small vocabulary, a closing bracket when the limit leaves no room for
    /// more. Never while the document is complete, as a stop token is allowed then too.
    /// </summary>
    public int ForcedToken()
    {
        if (_matcher.IsAccepting) return -1;
        var first = _matcher.OnlyNextByte();
        if (first < 0) return -1;
        var limit = _tokensLeft - 1;
        return _vocabulary.OnlyToken(_matcher.States, (byte)first, Limited ? next => JsonMatcher.Remaining(next) <= limit : null);
    }

    public void Accept(int tokenId)
    {
        if (_stopTokenIds.Contains(tokenId)) return;
        if (_vocabulary.TokenBytes(tokenId) is not { } bytes || !_matcher.TryAdvance(bytes))
        {
            throw new InvalidOperationException($"token {tokenId} is not allowed here by the JSON constraint");
        }
        if (Limited && _tokensLeft > 0) _tokensLeft--;
    }

    public bool IsFinished => _matcher.IsFinished;
}
