using System.Numerics.Tensors;

namespace Similarity.Encoders;

/// <summary>How an encoder's raw output becomes one vector per item.</summary>
public static class Pooling
{
    /// <summary>Mean of the token vectors where the attention mask is 1 ([N,L,H] → [H] for item <paramref name="item"/>).</summary>
    public static void MeanOverMask(ReadOnlySpan<float> hidden, ReadOnlySpan<long> mask, int item, int length, int width, Span<float> destination)
    {
        destination.Clear();
        var count = 0;
        for (var t = 0; t < length; t++)
        {
            if (mask[item * length + t] == 0)
                continue;
            TensorPrimitives.Add(destination, hidden.Slice((item * length + t) * width, width), destination);
            count++;
        }
        if (count > 0)
            TensorPrimitives.Divide(destination, count, destination);
    }

    /// <summary>The first token's vector: BERT's <c>[CLS]</c> pooling.</summary>
    public static void Cls(ReadOnlySpan<float> hidden, int item, int length, int width, Span<float> destination) =>
        hidden.Slice(item * length * width, width).CopyTo(destination);

    /// <summary>Global average pooling of a feature map [N,C,H,W] → [C] for item <paramref name="item"/>.</summary>
    public static void GlobalAverage(ReadOnlySpan<float> featureMap, int item, int channels, int area, Span<float> destination)
    {
        for (var c = 0; c < channels; c++)
            destination[c] = TensorPrimitives.Sum(featureMap.Slice((item * channels + c) * area, area)) / area;
    }
}
