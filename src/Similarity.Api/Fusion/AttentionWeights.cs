namespace Similarity.Fusion;

/// <summary>How much the fused vector took from the image and from the text (the attention's two weights, summing to 1).</summary>
public sealed record AttentionWeights(float Image, float Text);
