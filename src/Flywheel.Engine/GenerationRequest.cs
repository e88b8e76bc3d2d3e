using Flywheel.Engine.Sampling;

namespace Flywheel.Engine;

/// <summary>What to generate: prompt token ids and how to sample and stop.</summary>
public sealed record GenerationRequest(IReadOnlyList<int> PromptIds, SamplingOptions Sampling, GenerationOptions Stopping)
{
    /// <summary>
    /// Limits the tokens the generation may produce (a JSON schema, a forced tool call); null for free text. It holds
    /// the state of this one generation, so a request with a constraint is run once.
    /// </summary>
    public Constraints.ITokenConstraint? Constraint { get; init; }
}
