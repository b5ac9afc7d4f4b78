using System.Numerics.Tensors;

namespace Similarity.Insight;

/// <summary>
/// k-means on the unit sphere: points and centroids are unit vectors, a point goes to the centroid of highest cosine,
/// a centroid is its members' normalised mean. Seeded by k-means++ (cosine distance) from a fixed seed, so the same
/// points give the same clusters. A cluster left empty takes the point farthest from its own centroid. The number
/// of clusters can be chosen by the mean silhouette over a sample (<see cref="Choose"/>).
/// </summary>
public static class SphericalKMeans
{
    /// <summary>Each point's cluster and its cosine to that cluster's centroid; the centroids.</summary>
    public sealed record Result(int[] Assignment, double[] Similarity, float[][] Centroids);

    public static Result Run(IReadOnlyList<float[]> points, int k, int seed, int maxIterations = 30)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, points.Count);
        var random = new Random(seed);
        var centroids = SeedPlusPlus(points, k, random);
        var assignment = new int[points.Count];
        var similarity = new double[points.Count];
        Array.Fill(assignment, -1);
        for (var iteration = 0; iteration < maxIterations; iteration++)
        {
            var moved = Assign(points, centroids, assignment, similarity);
            Update(points, centroids, assignment, similarity);
            if (moved == 0)
                break;
        }
        Assign(points, centroids, assignment, similarity);
        return new Result(assignment, similarity, centroids);
    }

    /// <summary>Among <paramref name="candidates"/> (numbers of clusters), the one whose clustering has the highest mean silhouette on a sample.</summary>
    public static (int K, double Silhouette, Result Result) Choose(IReadOnlyList<float[]> points, IEnumerable<int> candidates, int seed, int sample = 1000)
    {
        (int K, double Silhouette, Result Result)? best = null;
        foreach (var k in candidates.Where(k => k >= 2 && k < points.Count).Distinct().Order())
        {
            var result = Run(points, k, seed);
            var silhouette = Silhouette(points, result.Assignment, sample, seed);
            if (best is null || silhouette > best.Value.Silhouette)
                best = (k, silhouette, result);
        }
        return best ?? (1, 0, Run(points, 1, seed));
    }

    /// <summary>The numbers of clusters tried for <paramref name="count"/> items: around √(n/2) (a common rule of thumb), halved and doubled.</summary>
    public static int[] Candidates(int count)
    {
        var middle = Math.Clamp((int)Math.Round(Math.Sqrt(count / 2.0)), 2, 200);
        return [.. new[] { middle / 2, middle, middle * 2 }.Select(k => Math.Clamp(k, 2, Math.Max(2, count - 1))).Distinct()];
    }

    /// <summary>Mean silhouette (cosine distance) over an evenly spread sample of at most <paramref name="sample"/> points.</summary>
    public static double Silhouette(IReadOnlyList<float[]> points, int[] assignment, int sample, int seed)
    {
        var chosen = Enumerable.Range(0, points.Count).ToArray();
        if (chosen.Length > sample)
            new Random(seed).Shuffle(chosen);
        chosen = chosen[..Math.Min(sample, chosen.Length)];
        var clusters = assignment.Max() + 1;
        double total = 0;
        foreach (var i in chosen)
        {
            var sums = new double[clusters];
            var counts = new int[clusters];
            foreach (var j in chosen)
            {
                if (j == i)
                    continue;
                sums[assignment[j]] += 1 - TensorPrimitives.Dot(points[i], points[j]);
                counts[assignment[j]]++;
            }
            var own = assignment[i];
            if (counts[own] == 0)
                continue;
            var a = sums[own] / counts[own];
            var b = Enumerable.Range(0, clusters).Where(c => c != own && counts[c] > 0).Select(c => sums[c] / counts[c]).DefaultIfEmpty(a).Min();
            total += Math.Max(a, b) > 0 ? (b - a) / Math.Max(a, b) : 0;
        }
        return total / chosen.Length;
    }

    static float[][] SeedPlusPlus(IReadOnlyList<float[]> points, int k, Random random)
    {
        var centroids = new float[k][];
        centroids[0] = (float[])points[random.Next(points.Count)].Clone();
        var distance = new double[points.Count];
        for (var i = 0; i < points.Count; i++)
            distance[i] = Math.Max(0, 1 - TensorPrimitives.Dot(points[i], centroids[0]));
        for (var c = 1; c < k; c++)
        {
            var sum = distance.Sum();
            var pick = random.NextDouble() * sum;
            var chosen = 0;
            for (double running = 0; chosen < points.Count - 1; chosen++)
            {
                running += distance[chosen];
                if (running >= pick && distance[chosen] > 0)
                    break;
            }
            centroids[c] = (float[])points[chosen].Clone();
            for (var i = 0; i < points.Count; i++)
                distance[i] = Math.Min(distance[i], Math.Max(0, 1 - TensorPrimitives.Dot(points[i], centroids[c])));
        }
        return centroids;
    }

    static int Assign(IReadOnlyList<float[]> points, float[][] centroids, int[] assignment, double[] similarity)
    {
        var moved = 0;
        Parallel.For(0, points.Count, () => 0, (i, _, local) =>
        {
            var (best, bestScore) = (0, float.NegativeInfinity);
            for (var c = 0; c < centroids.Length; c++)
            {
                var score = TensorPrimitives.Dot(points[i], centroids[c]);
                if (score > bestScore)
                    (best, bestScore) = (c, score);
            }
            similarity[i] = bestScore;
            if (assignment[i] == best)
                return local;
            assignment[i] = best;
            return local + 1;
        }, local => Interlocked.Add(ref moved, local));
        return moved;
    }

    static void Update(IReadOnlyList<float[]> points, float[][] centroids, int[] assignment, double[] similarity)
    {
        var dimension = points[0].Length;
        var sums = new float[centroids.Length][];
        for (var c = 0; c < sums.Length; c++)
            sums[c] = new float[dimension];
        var counts = new int[centroids.Length];
        for (var i = 0; i < points.Count; i++)
        {
            TensorPrimitives.Add(sums[assignment[i]], points[i], sums[assignment[i]]);
            counts[assignment[i]]++;
        }
        for (var c = 0; c < centroids.Length; c++)
        {
            if (counts[c] == 0)
            {
                // The worst-served point founds the empty cluster.
                var farthest = Enumerable.Range(0, points.Count).MinBy(i => similarity[i]);
                sums[c] = (float[])points[farthest].Clone();
                similarity[farthest] = 1;
            }
            var norm = TensorPrimitives.Norm(sums[c]);
            if (norm > 0)
                TensorPrimitives.Divide(sums[c], norm, sums[c]);
            centroids[c] = sums[c];
        }
    }
}
