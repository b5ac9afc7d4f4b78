using System.Diagnostics;
using System.Numerics.Tensors;

namespace Similarity.Insight;

/// <summary>
/// One clustering of the catalog, from its items to what <see cref="ClusterStore.WriteAsync"/> stores: spherical
/// k-means (k given, or chosen by silhouette) over each item's <see cref="PointOf">point</see>, its fused vector and its
/// text tower's vector joined so that the cosine of two points is the mean of their fused and text cosines; each
/// cluster's label words, its five items nearest the centroid and the categories it spans. Pure apart from the clock.
/// k-means on the sphere because it costs O(n·k·d) a round and its centroids give the central items for free; the text
/// half because the fused vector alone, which leans on the picture, groups the catalog's categories no better than words
/// do (docs/benchmarks.md, "Clusters: agreement with the folders"), and an item whose picture is wrong still goes with the items its words describe.
/// </summary>
public static class Clustering
{
    public const int Seed = 20261206, CentralItems = 5, CategoriesShown = 5;

    /// <summary>The text vector's share of a point's cosine (the fused vector's is the rest).</summary>
    public const double TextShare = 0.5;

    public sealed record Outcome(List<ClusterStore.ClusterSummary> Clusters, List<(string Sku, int Cluster, double Similarity)> Members,
        string ChosenBy, double? Silhouette, double TookMs);

    public static Outcome Run(IReadOnlyList<ClusterStore.CatalogItem> items, int givenK)
    {
        var clock = Stopwatch.StartNew();
        var points = items.Select(i => i.Point).ToList();
        SphericalKMeans.Result result;
        string chosenBy;
        double? silhouette = null;
        if (givenK > 0)
        {
            result = SphericalKMeans.Run(points, Math.Min(givenK, points.Count), Seed);
            chosenBy = "configured";
        }
        else
        {
            var chosen = SphericalKMeans.Choose(points, SphericalKMeans.Candidates(points.Count), Seed);
            (result, silhouette, chosenBy) = (chosen.Result, Math.Round(chosen.Silhouette, 4), "silhouette");
        }
        var k = result.Centroids.Length;
        var labels = ClusterLabels.Label([.. items.Select(i => ClusterLabels.WordsOf(i.Title + " " + i.Description))], result.Assignment, k);
        // Empty clusters (possible only when points repeat) are left out; the others are numbered by size.
        var order = Enumerable.Range(0, k).Select(c => (Cluster: c, Members: Enumerable.Range(0, items.Count).Where(i => result.Assignment[i] == c).ToList()))
            .Where(c => c.Members.Count > 0)
            .OrderByDescending(c => c.Members.Count).ThenBy(c => items[c.Members[0]].Sku, StringComparer.Ordinal).ToList();
        var clusters = new List<ClusterStore.ClusterSummary>();
        var members = new List<(string, int, double)>();
        for (var id = 1; id <= order.Count; id++)
        {
            var inCluster = order[id - 1].Members;
            var central = inCluster.OrderByDescending(i => result.Similarity[i]).ThenBy(i => items[i].Sku, StringComparer.Ordinal)
                .Take(CentralItems).Select(i => items[i].Sku).ToArray();
            var categories = inCluster.GroupBy(i => items[i].Category).Select(g => new ClusterStore.CategoryCount(g.Key, g.Count()))
                .OrderByDescending(c => c.Items).ThenBy(c => c.Category, StringComparer.Ordinal).Take(CategoriesShown).ToList();
            clusters.Add(new ClusterStore.ClusterSummary(id, inCluster.Count, labels[order[id - 1].Cluster], central, categories,
                Math.Round(inCluster.Average(i => result.Similarity[i]), 6)));
            members.AddRange(inCluster.Select(i => (items[i].Sku, id, result.Similarity[i])));
        }
        return new Outcome(clusters, members, chosenBy, silhouette, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// An item's unit point: its unit fused vector scaled by √(1 − share) followed by its unit text vector scaled by
    /// √share, so that the dot product of two points is (1 − share)·cos(fused) + share·cos(text). An item without a
    /// text vector (empty) counts its fused vector twice. The share is <see cref="TextShare"/> but for the bench's sweep.
    /// </summary>
    public static float[] PointOf(ReadOnlySpan<float> fused, ReadOnlySpan<float> text, double share = TextShare)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(share, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(share, 1);
        if (text.IsEmpty)
            text = fused;
        var point = new float[fused.Length + text.Length];
        TensorPrimitives.Multiply(fused, (float)(Math.Sqrt(1 - share) / Norm(fused)), point.AsSpan(0, fused.Length));
        TensorPrimitives.Multiply(text, (float)(Math.Sqrt(share) / Norm(text)), point.AsSpan(fused.Length));
        return point;
    }

    static double Norm(ReadOnlySpan<float> vector) => TensorPrimitives.Norm(vector) is var norm and > 0 ? norm : 1;
}
