using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>What a product page needs from /similar in one call: the fields it shows, and many SKUs at once.</summary>
public sealed class StorefrontResultsTests(SeededCatalog catalog) : IClassFixture<SeededCatalog>
{
    [Fact]
    public async Task Results_carry_what_a_product_page_shows_and_attributes_only_when_asked()
    {
        var admin = catalog.CreateAdminClient();
        var form = CatalogClient.Form(new TestItem("shop-1", "red leather satchel bag", "bags", "acme", 120m, Attributes: """{"colour": "red"}"""));
        form.Add(new StringContent("EUR"), "currency");
        form.Add(new StringContent("https://cdn.example/shop-1.jpg"), "imageUrl");
        Assert.True((await admin.PutAsync("/items/shop-1", form)).IsSuccessStatusCode);

        var plain = await catalog.CreateClient().GetStringAsync("/similar/dup-original?k=100&category=bags&brand=acme");
        var result = JsonDocument.Parse(plain).RootElement.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("sku").GetString() == "shop-1");
        Assert.Equal("acme", result.GetProperty("brand").GetString());
        Assert.Equal("EUR", result.GetProperty("currency").GetString());
        Assert.True(result.GetProperty("available").GetBoolean());
        Assert.Equal("https://cdn.example/shop-1.jpg", result.GetProperty("imageUrl").GetString());
        Assert.False(result.TryGetProperty("attributes", out _));

        var asked = await catalog.CreateClient().GetStringAsync("/similar/dup-original?k=100&category=bags&brand=acme&fields=attributes,description");
        var withAttributes = JsonDocument.Parse(asked).RootElement.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("sku").GetString() == "shop-1");
        Assert.Equal("red", withAttributes.GetProperty("attributes").GetProperty("colour").GetString());

        var bad = await catalog.CreateClient().GetAsync("/similar/dup-original?fields=price");
        await CatalogClient.AssertNamesFieldAsync(bad, "fields");
    }

    [Fact]
    public async Task A_batch_answers_each_sku_as_its_own_similar_would()
    {
        var client = catalog.CreateClient();
        string[] skus = [SeededCatalog.SkuOf(3), SeededCatalog.SkuOf(150), "no-such-sku", SeededCatalog.SkuOf(399)];
        const string query = "?k=7&available=true&imageWeight=1&textWeight=2";

        var response = await client.PostAsJsonAsync("/similar/batch" + query, new { skus });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var batch = (await response.Content.ReadFromJsonAsync<SimilarApi.SimilarBatchResponse>())!;
        Assert.Equal("weighted", batch.RankedBy);
        Assert.Equal(skus, batch.Items.Select(i => i.Sku));
        Assert.Equal(404, batch.Items[2].Status);
        foreach (var entry in batch.Items.Where(i => i.Status == 200))
        {
            var single = await client.SimilarAsync(entry.Sku, query);
            Assert.Equal(single.Results.Select(r => (r.Sku, Math.Round(r.WeightedScore!.Value, 5))), entry.Results.Select(r => (r.Sku, Math.Round(r.WeightedScore!.Value, 5))));
            Assert.Equal(7, entry.Results.Count);
        }

        // And against a brute force computed here: the first SKU's top 7 by 1·image + 2·text cosine among available items.
        var all = await BruteForce.ReadAllAsync(catalog.Database);
        var q = all.Single(i => i.Sku == skus[0]);
        var expected = all.Where(o => o.Sku != q.Sku && o.Available)
            .Select(o => (o.Sku, Score: (BruteForce.CosineOrNull(q.Image, o.Image) ?? 0) + 2 * (BruteForce.CosineOrNull(q.Text, o.Text) ?? 0)))
            .OrderByDescending(o => o.Score).Take(7).ToList();
        Assert.Equal(expected.Select(e => Math.Round(e.Score, 4)), batch.Items[0].Results.Select(r => Math.Round(r.WeightedScore!.Value, 4)));
    }

    [Theory]
    [InlineData("""{"skus": []}""", "skus")]
    [InlineData("""{"skus": ["ok-1", "not a sku"]}""", "skus[1]")]
    [InlineData("""{}""", "skus")]
    public async Task A_bad_batch_is_a_400_naming_what_is_wrong(string body, string field)
    {
        var response = await catalog.CreateClient().PostAsync("/similar/batch", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await CatalogClient.AssertNamesFieldAsync(response, field);
    }

    [Fact]
    public async Task A_batch_of_more_than_100_skus_is_refused()
    {
        var response = await catalog.CreateClient().PostAsJsonAsync("/similar/batch", new { skus = Enumerable.Range(0, 101).Select(SeededCatalog.SkuOf) });
        await CatalogClient.AssertNamesFieldAsync(response, "skus");
    }
}
