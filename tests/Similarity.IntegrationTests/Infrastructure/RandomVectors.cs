namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>Seeded random unit vectors for the tests that write catalogs by SQL (Box–Muller, so every direction is as likely).</summary>
public static class RandomVectors
{
    public static float[] Gaussian(Random random, int dimension) =>
        [.. Enumerable.Range(0, dimension).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];

    public static float[] Unit(float[] v)
    {
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }
}
