using System.Numerics.Tensors;
using Similarity.Hosting;

namespace Similarity.Catalog;

/// <summary>A vector with NaN, infinity or zero norm never reaches the table: cosine over it is undefined.</summary>
public static class VectorGuard
{
    public static void Check(ReadOnlySpan<float> vector, string field)
    {
        foreach (var value in vector)
        {
            if (!float.IsFinite(value))
                throw new InputRejectedException(field, $"The {field} produced a vector with NaN or infinity; it cannot be stored.", InputRejection.Unprocessable);
        }
        if (TensorPrimitives.Norm(vector) == 0)
            throw new InputRejectedException(field, $"The {field} produced a zero vector (e.g. an all-black image); it has no direction to compare.", InputRejection.Unprocessable);
    }
}
