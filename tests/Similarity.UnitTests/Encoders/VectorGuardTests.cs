using Similarity.Catalog;
using Similarity.Hosting;

namespace Similarity.UnitTests.Encoders;

public sealed class VectorGuardTests
{
    [Theory]
    [InlineData(new[] { 0f, 0f, 0f }, "zero vector")]
    [InlineData(new[] { 1f, float.NaN, 0f }, "NaN")]
    [InlineData(new[] { 1f, float.PositiveInfinity, 0f }, "infinity")]
    public void A_vector_without_a_direction_never_reaches_the_table(float[] vector, string named)
    {
        var error = Assert.Throws<InputRejectedException>(() => VectorGuard.Check(vector, "image"));
        Assert.Equal(InputRejection.Unprocessable, error.Reason);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { 0f, 0.5f, -2f })]
    [InlineData(new[] { 1e-20f, 0f, 0f })] // tiny but with a direction
    public void A_finite_nonzero_vector_passes(float[] vector) =>
        Assert.Null(Record.Exception(() => VectorGuard.Check(vector, "image")));
}
