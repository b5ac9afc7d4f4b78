using Similarity.Insight;

namespace Similarity.UnitTests.Insight;

/// <summary>Spherical k-means and the clusters' labels on points and words whose answer is plain by construction.</summary>
public sealed class ClusteringTests
{
    /// <summary>Unit vectors near one of three orthogonal axes of 4-d space, 10 each, jittered by a seeded random.</summary>
    static List<float[]> ThreeBlobs()
    {
        var random = new Random(5);
        var points = new List<float[]>();
        for (var axis = 0; axis < 3; axis++)
        {
            for (var i = 0; i < 10; i++)
            {
                var v = new float[4];
                for (var d = 0; d < 4; d++)
                    v[d] = (float)(random.NextDouble() * 0.2);
                v[axis] = 1;
                var norm = MathF.Sqrt(v.Sum(x => x * x));
                points.Add([.. v.Select(x => x / norm)]);
            }
        }
        return points;
    }

    [Fact]
    public void Three_separate_blobs_make_three_clusters_each_of_one_blob()
    {
        var result = SphericalKMeans.Run(ThreeBlobs(), k: 3, seed: 1);

        for (var blob = 0; blob < 3; blob++)
            Assert.Single(result.Assignment.Skip(blob * 10).Take(10).Distinct());
        Assert.Equal(3, result.Assignment.Distinct().Count());
        Assert.All(result.Similarity, s => Assert.InRange(s, 0.9, 1.0001));
    }

    [Fact]
    public void The_silhouette_chooses_three_clusters_for_three_blobs()
    {
        var (k, silhouette, _) = SphericalKMeans.Choose(ThreeBlobs(), [2, 3, 6], seed: 1);

        Assert.Equal(3, k);
        Assert.InRange(silhouette, 0.5, 1);
    }

    [Fact]
    public void The_candidate_numbers_surround_the_square_root_of_half_the_items()
    {
        Assert.Equal([50, 100, 200], SphericalKMeans.Candidates(20_000));
        Assert.Equal([2, 3], SphericalKMeans.Candidates(4));
    }

    static ClusterStore.CatalogItem Item(string sku, float[] fused, float[] text) => new(sku, Clustering.PointOf(fused, text), sku, null, null);

    [Fact]
    public void A_point_is_a_unit_vector_whose_dot_product_is_the_mean_of_the_fused_and_text_cosines()
    {
        var a = Clustering.PointOf([3, 0], [0, 2, 0]);
        var b = Clustering.PointOf([1, 1], [0, 0, 5]);

        Assert.Equal(5, a.Length);
        Assert.Equal(1, Math.Sqrt(a.Sum(x => (double)x * x)), 6);
        // cos(fused) = 1/√2, cos(text) = 0: the mean is 1/(2√2).
        Assert.Equal(1 / (2 * Math.Sqrt(2)), a.Zip(b).Sum(p => (double)p.First * p.Second), 6);
    }

    [Fact]
    public void An_item_without_a_text_vector_counts_its_fused_vector_twice()
    {
        var half = (float)Math.Sqrt(0.5);

        Assert.Equal([0, half, 0, half], Clustering.PointOf([0, 4], default));
    }

    [Fact]
    public void An_item_whose_picture_shows_another_group_stays_with_the_items_its_words_describe()
    {
        // Fused: mugs on one direction, shirts 60° away (cosine 0.5); the swapped mug's picture is a shirt's, so its fused
        // vector is the shirts'. Text: mugs and shirts orthogonal. Joined, the swapped mug is nearer the mugs (0.75 against 0.5).
        float[] mug = [1, 0], shirt = [0.5f, MathF.Sqrt(3) / 2];
        var items = Enumerable.Range(0, 4).Select(i => Item($"mug-{i}", mug, [1, 0]))
            .Append(Item("mug-swapped", shirt, [1, 0]))
            .Concat(Enumerable.Range(0, 5).Select(i => Item($"shirt-{i}", shirt, [0, 1]))).ToList();

        var outcome = Clustering.Run(items, givenK: 2);

        var clusterOf = outcome.Members.ToDictionary(m => m.Sku, m => m.Cluster);
        Assert.Equal(clusterOf["mug-0"], clusterOf["mug-swapped"]);
        Assert.NotEqual(clusterOf["mug-0"], clusterOf["shirt-0"]);
        Assert.Equal([5, 5], outcome.Clusters.Select(c => c.Size));
    }

    [Fact]
    public void A_label_holds_the_words_over_represented_in_its_cluster()
    {
        string[] texts = ["red mug", "red mug large", "blue mug", "green shirt", "green shirt small", "blue shirt"];
        int[] assignment = [0, 0, 0, 1, 1, 1];

        var labels = ClusterLabels.Label([.. texts.Select(t => ClusterLabels.WordsOf(t))], assignment, 2);

        // mug: 3 of 3 here against 3 of 6 overall; red: 2 of 3 against 2 of 6. "blue" is as common here as overall.
        Assert.Equal(["mug", "red"], labels[0]);
        Assert.Equal(["shirt", "green"], labels[1]);
    }

    [Fact]
    public void Words_are_lower_cased_without_stop_words_or_short_ones()
    {
        Assert.Equal(["café", "mug", "red"], ClusterLabels.WordsOf("The RED mug, a Café x2 of").Order(StringComparer.Ordinal));
    }
}
