using Flywheel.Engine.Sampling;

namespace Flywheel.Engine;

/// <summary>What to generate: prompt token ids and how to sample and stop.</summary>
public sealed record GenerationRequest(IReadOnlyList<int> PromptIds, SamplingOptions Sampling, GenerationOptions Stopping);
