namespace Flywheel.Engine.Constraints;

/// <summary>
/// Constrains a generation to a JSON document (<see cref="JsonMatcher"/>) over a tokenizer's vocabulary
/// (<see cref="VocabularyTrie"/>): a token is allowed when all its bytes keep the text a valid prefix, and a stop
/// token only when the document is complete. One per generation; not thread-safe.
/// </summary>
public sealed class JsonTokenConstraint(JsonMatcher matcher, VocabularyTrie vocabulary, IReadOnlySet<int> stopTokenIds) : ITokenConstraint
{
    public JsonMatcher Matcher => matcher;

    public bool Allows(int tokenId)
    {
        if (stopTokenIds.Contains(tokenId)) return matcher.IsAccepting;
        return vocabulary.TokenBytes(tokenId) is { } bytes && matcher.CanAdvance(bytes);
    }

    public void FillMask(Span<ulong> mask)
    {
        mask.Clear();
        if (matcher.OpenStringRoom() is { } room)
        {
            // Inside a string most of the vocabulary is plain text: decide those tokens by their length alone and
            // walk only the rest (quotes, escapes, pieces of characters) byte by byte.
            for (var id = 0; id < vocabulary.VocabSize; id++)
            {
                var chars = vocabulary.PlainStringChars(id);
                if (chars >= 0 && chars <= room) mask[id >> 6] |= 1UL << (id & 63);
            }
            foreach (var id in vocabulary.NotPlainTokens)
            {
                if (matcher.CanAdvance(vocabulary.TokenBytes(id))) mask[id >> 6] |= 1UL << (id & 63);
            }
            return; // an open string is never a complete document, so no stop token
        }
        vocabulary.Walk(matcher.States, mask);
        if (!matcher.IsAccepting) return;
        foreach (var id in stopTokenIds)
        {
            if ((uint)id < (uint)vocabulary.VocabSize) mask[id >> 6] |= 1UL << (id & 63);
        }
    }

    public void Accept(int tokenId)
    {
        if (stopTokenIds.Contains(tokenId)) return;
        if (vocabulary.TokenBytes(tokenId) is not { } bytes || !matcher.TryAdvance(bytes))
        {
            throw new InvalidOperationException($"token {tokenId} is not allowed here by the JSON constraint");
        }
    }

    public bool IsFinished => matcher.IsFinished;
}
