using System.Net.Http.Json;
using Similarity.Insight;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Insight;

/// <summary>GET /checks/mismatch on the insight catalog: the food title with a building's picture leads the list.</summary>
public sealed class MismatchTests(InsightCatalog catalog) : IClassFixture<InsightCatalog>
{
    [Fact]
    public async Task The_swapped_picture_is_among_the_likeliest_mismatches_and_resembles_the_drawing_it_shows()
    {
        var client = catalog.CreateAdminClient();

        var page = (await client.GetFromJsonAsync<MismatchResponseOf>("/checks/mismatch?limit=3"))!;

        Assert.Equal(catalog.Count, page.Total);
        var swapped = page.Items.SingleOrDefault(i => i.Sku == InsightCatalog.Swapped);
        Assert.True(swapped is not null, "top 3: " + string.Join(", ", page.Items.Select(i => $"{i.Sku} {i.Score:F3}")));
        Assert.Equal(catalog.SwappedPictureOf, swapped.ResemblesInstead[0].Sku);
        Assert.InRange(swapped.ResemblesInstead[0].Score, 0.9999, 1.0001); // the very same picture
        Assert.True(page.Items.Zip(page.Items.Skip(1)).All(p => p.First.Score >= p.Second.Score), "likeliest first");
    }

    [Fact]
    public async Task An_items_score_is_its_categorys_median_agreement_less_its_own()
    {
        var client = catalog.CreateAdminClient();
        var vectors = await BruteForce.ReadAllAsync(catalog.Database);
        var agreement = vectors.ToDictionary(v => v.Sku, v => BruteForce.Cosine(v.Image!, v.Text!));
        var food = vectors.Where(v => v.Category == "food").Select(v => agreement[v.Sku]).Order().ToList();
        var median = food.Count % 2 == 1 ? food[food.Count / 2] : (food[food.Count / 2 - 1] + food[food.Count / 2]) / 2;

        var page = (await client.GetFromJsonAsync<MismatchResponseOf>($"/checks/mismatch?sku={InsightCatalog.Swapped}"))!;

        var item = Assert.Single(page.Items);
        // The answer is rounded to 6 places.
        Assert.InRange(Math.Abs(agreement[InsightCatalog.Swapped] - item.Agreement), 0, 1e-5);
        Assert.InRange(Math.Abs(median - item.Typical), 0, 1e-5);
        Assert.InRange(Math.Abs(median - agreement[InsightCatalog.Swapped] - item.Score), 0, 1e-5);
    }

    [Theory]
    [InlineData("limit=201", "limit")]
    [InlineData("sku=no%20such", "sku")]
    public async Task Bad_parameters_are_a_problem_naming_them(string query, string field) =>
        await CatalogClient.AssertNamesFieldAsync(await catalog.CreateAdminClient().GetAsync($"/checks/mismatch?{query}"), field);

    public sealed record MismatchResponseOf(long Total, List<Mismatches.MismatchItem> Items, int? NextAfter);
}
