namespace Flywheel.Engine.Sampling;

/// <summary>A token and its log-probability under the model's distribution (log-softmax of the raw logits).</summary>
public readonly record struct TokenLogProb(int Id, float LogProb);
