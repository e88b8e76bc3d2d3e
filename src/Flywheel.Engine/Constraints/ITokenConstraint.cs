namespace Flywheel.Engine.Constraints;

/// <summary>
/// Limits which tokens one generation may produce (a JSON schema, a forced tool call). The scheduler samples first
/// and asks <see cref="Allows"/>; only when the token is refused does it ask for the full mask, so a constraint costs
/// little while the model follows it. Holds the state of one generation: not thread-safe, not reusable.
/// <para>Call order per step: <see cref="Allows"/>, then if false <see cref="FillMask"/>, then <see cref="Accept"/>
/// with the chosen token; <see cref="IsFinished"/> after it.</para>
/// </summary>
public interface ITokenConstraint
{
    /// <summary>Whether <paramref name="tokenId"/> may come next (a stop token: only once the output is complete).</summary>
    bool Allows(int tokenId);

    /// <summary>Writes the allowed tokens as bits (bit <c>id % 64</c> of word <c>id / 64</c>) into <paramref name="mask"/>.</summary>
    void FillMask(Span<ulong> mask);

    /// <summary>Moves past <paramref name="tokenId"/>, which must be allowed.</summary>
    void Accept(int tokenId);

    /// <summary>
    /// The one token allowed next when the constraint can tell cheaply that no other is, else −1; the scheduler then
    /// takes it without a draw over the vocabulary (and still calls <see cref="Accept"/>). Asked before
    /// <see cref="Allows"/>; −1 is always a correct answer.
    /// </summary>
    int ForcedToken() => -1;

    /// <summary>The output is complete and nothing more may follow.</summary>
    bool IsFinished { get; }
}
