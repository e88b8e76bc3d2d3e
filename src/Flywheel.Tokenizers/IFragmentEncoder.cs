namespace Flywheel.Tokenizers;

/// <summary>Turns one stretch of plain text (no special tokens in it) into ids. Implementations are thread-safe.</summary>
internal interface IFragmentEncoder
{
    /// <param name="text">The fragment, already free of lone surrogates.</param>
    /// <param name="atStartOrAfterSpecial">True for the first fragment and for one right after a special token
    /// (SentencePiece puts its dummy-prefix space there).</param>
    /// <param name="output">Ids are appended here.</param>
    void Encode(string text, bool atStartOrAfterSpecial, List<int> output);
}
