using System.Numerics.Tensors;

namespace Similarity.Fusion;

/// <summary>One item's fused vector, the per-modality projected vectors and the attention weights that mixed them.</summary>
public sealed record FusionResult(float[] Fused, float[]? Image, float[]? Text, float ImageWeight, float TextWeight);

/// <summary>
/// Additive attention over the present modalities. Each modality m is projected into the shared space and
/// L2-normalised (p_m = Ŵ_m·x_m); it is scored s_m = vᵀ·tanh(W_a·p_m + b_a); a softmax over the present
/// modalities gives the weights; the fused vector is the normalised weighted sum. A missing modality is
/// masked out of the softmax, so an item with one modality gets exactly that modality's vector.
/// </summary>
public sealed class AttentionFusion
{
    readonly float[] _imageProjection; // [F, Di]
    readonly float[] _textProjection;  // [F, Dt]
    readonly float[] _attentionWeight; // [A, F]
    readonly float[] _attentionBias;   // [A]
    readonly float[] _attentionVector; // [A]

    public int Dimension { get; }
    public int ImageDimension { get; }
    public int TextDimension { get; }

    AttentionFusion(float[] imageProjection, float[] textProjection, float[] attentionWeight, float[] attentionBias, float[] attentionVector,
        int dimension, int imageDimension, int textDimension)
    {
        (_imageProjection, _textProjection, _attentionWeight, _attentionBias, _attentionVector) =
            (imageProjection, textProjection, attentionWeight, attentionBias, attentionVector);
        (Dimension, ImageDimension, TextDimension) = (dimension, imageDimension, textDimension);
    }

    /// <summary>Loads the weights file, checking every shape against the encoders' and fusion's dimensions.</summary>
    public static AttentionFusion Load(string path, int imageDimension, int textDimension, int dimension)
    {
        var tensors = SafeTensors.Read(path);
        SafeTensors.Tensor Get(string name, params int[] shape)
        {
            if (!tensors.TryGetValue(name, out var tensor))
                throw new InvalidOperationException($"Fusion weights {path} lack tensor '{name}'.");
            if (shape.Length > 0 && !tensor.Shape.SequenceEqual(shape))
                throw new InvalidOperationException($"Fusion weights {path}: '{name}' is [{string.Join(',', tensor.Shape)}], expected [{string.Join(',', shape)}].");
            return tensor;
        }
        var attention = Get("attention_weight");
        if (attention.Shape is not [var a, var f] || f != dimension)
            throw new InvalidOperationException($"Fusion weights {path}: 'attention_weight' must be [A,{dimension}].");
        return new AttentionFusion(
            Get("image_projection", dimension, imageDimension).Data,
            Get("text_projection", dimension, textDimension).Data,
            attention.Data, Get("attention_bias", a).Data, Get("attention_vector", a).Data,
            dimension, imageDimension, textDimension);
    }

    public FusionResult Fuse(ReadOnlySpan<float> image, ReadOnlySpan<float> text)
    {
        var hasImage = !image.IsEmpty;
        var hasText = !text.IsEmpty;
        if (!hasImage && !hasText)
            throw new ArgumentException("An item needs an image or a text to be fused.");
        return FuseProjected(hasImage ? Project(_imageProjection, image, ImageDimension) : null,
            hasText ? Project(_textProjection, text, TextDimension) : null);
    }

    /// <summary>
    /// Fusion from modalities already projected (unit vectors in the shared space, as stored with each item): lets a
    /// changed text be fused with an item's stored image projection, without its picture.
    /// </summary>
    public FusionResult FuseProjected(float[]? imageProjected, float[]? textProjected)
    {
        if (imageProjected is null && textProjected is null)
            throw new ArgumentException("An item needs an image or a text to be fused.");

        // Softmax over the present modalities only.
        var imageScore = imageProjected is null ? float.NegativeInfinity : Score(imageProjected);
        var textScore = textProjected is null ? float.NegativeInfinity : Score(textProjected);
        var max = MathF.Max(imageScore, textScore);
        var imageExp = imageProjected is null ? 0f : MathF.Exp(imageScore - max);
        var textExp = textProjected is null ? 0f : MathF.Exp(textScore - max);
        var imageWeight = imageExp / (imageExp + textExp);
        var textWeight = textExp / (imageExp + textExp);

        var fused = new float[Dimension];
        if (imageProjected is not null)
            TensorPrimitives.MultiplyAdd(imageProjected, imageWeight, fused, fused);
        if (textProjected is not null)
            TensorPrimitives.MultiplyAdd(textProjected, textWeight, fused, fused);
        Normalize(fused);
        return new FusionResult(fused, imageProjected, textProjected, imageWeight, textWeight);
    }

    float[] Project(float[] matrix, ReadOnlySpan<float> input, int inputDimension)
    {
        if (input.Length != inputDimension)
            throw new ArgumentException($"Expected a {inputDimension}-d vector, got {input.Length}.");
        var projected = new float[Dimension];
        for (var row = 0; row < Dimension; row++)
            projected[row] = TensorPrimitives.Dot(matrix.AsSpan(row * inputDimension, inputDimension), input);
        Normalize(projected);
        return projected;
    }

    float Score(float[] projected)
    {
        var hidden = new float[_attentionBias.Length];
        for (var row = 0; row < hidden.Length; row++)
            hidden[row] = TensorPrimitives.Dot(_attentionWeight.AsSpan(row * Dimension, Dimension), projected);
        TensorPrimitives.Add(hidden, _attentionBias, hidden);
        TensorPrimitives.Tanh(hidden, hidden);
        return TensorPrimitives.Dot(hidden, _attentionVector);
    }

    /// <summary>Scales to unit length; a zero vector (an all-black image through ReLU, say) stays zero.</summary>
    public static void Normalize(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0)
            TensorPrimitives.Divide(vector, norm, vector);
    }
}
