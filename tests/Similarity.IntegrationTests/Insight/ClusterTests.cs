using System.Net;
using System.Net.Http.Json;
using Similarity.Insight;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Insight;

/// <summary>GET /clusters and /clusters/{id} on the insight catalog, clustered by the duty, checked against the stored fused and text vectors.</summary>
public sealed class ClusterTests(InsightCatalog catalog) : IClassFixture<InsightCatalog>
{
    public sealed record ClustersOf(ClusterStore.ClusteringState State, List<ClusterStore.ClusterSummary> Clusters);

    public sealed record ClusterOf(ClusterStore.ClusterSummary Cluster, List<ClusterStore.ClusterMember> Members, int? NextAfter);

    /// <summary>Polls /clusters until <paramref name="done"/> holds of the clustering's state.</summary>
    async Task<ClustersOf> ClusteredAsync(HttpClient client, Func<ClusterStore.ClusteringState, bool> done)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var clusters = (await client.GetFromJsonAsync<ClustersOf>("/clusters"))!;
            if (done(clusters.State))
                return clusters;
            Assert.True(DateTime.UtcNow < deadline, "the clustering duty did not cluster within 2 minutes");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Polls until the clustering is as current as the duty keeps it: of the originals at least, and short of the
    /// stored items by fewer than 5% of those it holds (more would bring the next clustering).
    /// </summary>
    async Task<ClustersOf> CurrentAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var clusters = (await client.GetFromJsonAsync<ClustersOf>("/clusters"))!;
            var stored = (await BruteForce.ReadAllAsync(catalog.Database)).Count;
            if (clusters.State.Items >= catalog.Originals.Count && stored - clusters.State.Items < Math.Max(1, 0.05 * clusters.State.Items))
                return clusters;
            Assert.True(DateTime.UtcNow < deadline, $"no current clustering within 2 minutes ({clusters.State.Items} of {stored} items clustered)");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Every_item_is_in_the_cluster_whose_mean_vector_is_nearest()
    {
        var client = catalog.CreateAdminClient();
        // The clustering holds the catalog as it was read; the few items stored after it (under 5% of them) wait for the
        // next. Read whole: its clusters and all their members from one clustering (read again if the duty replaced it meanwhile).
        ClustersOf result;
        Dictionary<int, List<ClusterStore.ClusterMember>> members;
        do
        {
            result = await CurrentAsync(client);
            members = [];
            foreach (var cluster in result.Clusters)
                members[cluster.Id] = (await client.GetFromJsonAsync<ClusterOf>($"/clusters/{cluster.Id}?limit=1000"))!.Members;
        }
        while ((await client.GetFromJsonAsync<ClustersOf>("/clusters"))!.State.ComputedAt != result.State.ComputedAt);
        var vectors = (await BruteForce.ReadAllAsync(catalog.Database)).ToDictionary(v => v.Sku);

        Assert.Equal(result.State.Clusters, result.Clusters.Count);
        Assert.InRange(result.Clusters.Count, 2, catalog.Count - 1);
        Assert.Equal(result.State.Items, members.Values.Sum(m => m.Count));
        var points = vectors.ToDictionary(v => v.Key, v => Point(v.Value));
        var means = members.ToDictionary(m => m.Key, m => Mean(m.Value.Select(v => points[v.Sku])));
        foreach (var (id, inCluster) in members)
        {
            foreach (var member in inCluster)
            {
                var own = BruteForce.Cosine(points[member.Sku], means[id]);
                Assert.InRange(Math.Abs(own - member.Similarity), 0, 1e-4); // float32 k-means, rounded to 6 places
                Assert.All(means.Where(m => m.Key != id), other => Assert.True(BruteForce.Cosine(points[member.Sku], other.Value) <= own + 1e-6,
                    $"{member.Sku} is nearer cluster {other.Key} than its own {id}"));
            }
        }
    }

    [Fact]
    public async Task Each_cluster_names_its_central_items_words_of_its_members_and_the_categories_it_spans()
    {
        var client = catalog.CreateAdminClient();
        var result = await ClusteredAsync(client, s => s.Items >= catalog.Originals.Count);

        foreach (var cluster in result.Clusters)
        {
            var page = (await client.GetFromJsonAsync<ClusterOf>($"/clusters/{cluster.Id}?limit=1000"))!;
            Assert.Equal(cluster.Size, page.Members.Count);
            Assert.Equal(page.Members.Take(cluster.Central.Length).Select(m => m.Sku), cluster.Central);
            var titles = page.Members.Select(m => m.Title.ToLowerInvariant()).ToList();
            Assert.All(cluster.Label, word => Assert.Contains(titles, t => t.Contains(word, StringComparison.Ordinal)));
            Assert.Equal(page.Members.GroupBy(m => m.Category).Count(), cluster.Categories.Count);
            Assert.Equal(cluster.Size, cluster.Categories.Sum(c => c.Items));
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/clusters/9999")).StatusCode);
        await CatalogClient.AssertNamesFieldAsync(await client.GetAsync("/clusters/01"), "id");
    }

    [Fact]
    public async Task Enough_new_items_bring_a_new_clustering_that_holds_every_item()
    {
        var client = catalog.CreateAdminClient();
        var first = await ClusteredAsync(client, s => s.Items >= catalog.Originals.Count);
        foreach (var i in Enumerable.Range(0, 3))
            await client.PutItemAsync(catalog.Original($"tools-{i}") with { Sku = $"more-tools-{i}", Price = 99 });

        // Three new items are over 5% of the at most 44 clustered: the next clustering reads every item, the new ones too.
        var second = await ClusteredAsync(client, s => s.ComputedAt > first.State.ComputedAt);
        var stored = await BruteForce.ReadAllAsync(catalog.Database);
        Assert.Equal(stored.Count, second.State.Items);
    }

    /// <summary>
    /// What the clustering groups: the unit fused vector weighted √(1 − share) joined to the unit text vector weighted
    /// √share, so that two points' dot product is the share-weighted mean of their fused and text cosines.
    /// </summary>
    static double[] Point(StoredVectors item)
    {
        double[] Unit(double[] v, double weight) => [.. v.Select(x => x * weight / Math.Sqrt(v.Sum(y => y * y)))];
        return [.. Unit(item.Fused, Math.Sqrt(1 - Clustering.TextShare)), .. Unit(item.Text!, Math.Sqrt(Clustering.TextShare))];
    }

    static double[] Mean(IEnumerable<double[]> vectors)
    {
        var list = vectors.ToList();
        var mean = new double[list[0].Length];
        foreach (var v in list)
            for (var d = 0; d < mean.Length; d++)
                mean[d] += v[d] / list.Count;
        return mean;
    }
}
