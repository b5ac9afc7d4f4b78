using System.Net;
using System.Net.Http.Json;
using Similarity.Insight;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Insight;

/// <summary>GET /duplicates on the insight catalog: the planted copies are found beside their originals, and nothing else is grouped with them.</summary>
public sealed class DuplicateTests(InsightCatalog catalog) : IClassFixture<InsightCatalog>
{
    [Theory]
    [InlineData("fused", 0.95)]
    [InlineData("image", 0.9)]
    public async Task Crops_resizes_and_reencodes_under_new_SKUs_are_grouped_with_their_originals(string by, double minScore)
    {
        var client = catalog.CreateAdminClient();

        var page = (await client.GetFromJsonAsync<InsightApi.DuplicatesResponse>($"/duplicates?by={by}&minScore={minScore}&limit=100"))!;

        Assert.Equal(by, page.By);
        foreach (var (sku, of, how) in catalog.Planted)
        {
            var group = page.Groups.SingleOrDefault(g => g.Members.Any(m => m.Sku == sku));
            Assert.True(group is not null, $"the {how} copy {sku} is in no group: {Describe(page)}");
            Assert.Equal(new[] { of, sku }.Order(StringComparer.Ordinal), group.Members.Select(m => m.Sku).Order(StringComparer.Ordinal));
            // The copy was stored at another price: the group says so, and its pair is scored over the threshold.
            Assert.Contains("price", group.Differs);
            Assert.DoesNotContain("title", group.Differs);
            var pair = Assert.Single(group.Pairs);
            Assert.InRange(pair.Score, minScore, 1.000001);
        }
    }

    [Fact]
    public async Task The_group_scores_are_the_cosines_of_the_stored_vectors()
    {
        var client = catalog.CreateAdminClient();
        var vectors = (await BruteForce.ReadAllAsync(catalog.Database)).ToDictionary(v => v.Sku);

        var page = (await client.GetFromJsonAsync<InsightApi.DuplicatesResponse>("/duplicates?by=image&minScore=0.9"))!;

        Assert.NotEmpty(page.Groups);
        foreach (var pair in page.Groups.SelectMany(g => g.Pairs))
            Assert.InRange(Math.Abs(BruteForce.Cosine(vectors[pair.Sku].Image!, vectors[pair.OtherSku].Image!) - pair.Score), 0, 1e-5);
    }

    [Fact]
    public async Task A_deleted_copy_leaves_its_group_once_the_lists_know()
    {
        var client = catalog.CreateAdminClient();
        var copy = catalog.Original("tools-4") with { Sku = "copy-tools-4" };
        await client.PutItemAsync(copy);
        await NeighbourLists.AppliedAsync(catalog.Database);
        var before = (await client.GetFromJsonAsync<InsightApi.DuplicatesResponse>("/duplicates?limit=100"))!;
        Assert.Contains(before.Groups, g => g.Members.Select(m => m.Sku).Order(StringComparer.Ordinal).SequenceEqual(["copy-tools-4", "tools-4"]));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/items/copy-tools-4")).StatusCode);
        await NeighbourLists.AppliedAsync(catalog.Database);

        var after = (await client.GetFromJsonAsync<InsightApi.DuplicatesResponse>("/duplicates?limit=100"))!;
        Assert.DoesNotContain(after.Groups, g => g.Members.Any(m => m.Sku == "copy-tools-4"));
        Assert.Equal(before.Total - 1, after.Total);
    }

    [Theory]
    [InlineData("by=colour", "by")]
    [InlineData("minScore=0.2", "minScore")]
    [InlineData("limit=0", "limit")]
    [InlineData("after=-1", "after")]
    public async Task Bad_parameters_are_a_problem_naming_them(string query, string field)
    {
        var response = await catalog.CreateAdminClient().GetAsync($"/duplicates?{query}");
        await CatalogClient.AssertNamesFieldAsync(response, field);
    }

    [Fact]
    public async Task Duplicates_need_the_admin_key()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await catalog.CreateClient().GetAsync("/duplicates")).StatusCode);
    }

    static string Describe(InsightApi.DuplicatesResponse page) =>
        string.Join("; ", page.Groups.Select(g => string.Join(",", g.Pairs.Select(p => $"{p.Sku}~{p.OtherSku} {p.Score:F3}"))));
}
