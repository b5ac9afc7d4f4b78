using System.Net;
using System.Net.Http.Json;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>
/// Diversity, crowding, the availability boost and the category fallback, each against a brute force computed here
/// over every stored vector, on filters small enough (one category: 40 items) that the service's candidates are all of them.
/// </summary>
public sealed class ShopRankingTests(SeededCatalog catalog) : IClassFixture<SeededCatalog>
{
    const double Tolerance = 1e-5;
    static readonly string QuerySku = SeededCatalog.SkuOf(11); // a shoe (11 % 10 = 1)

    async Task<(StoredVectors Query, List<StoredVectors> Others)> Reference(string sku, Func<StoredVectors, bool> matches)
    {
        var all = await BruteForce.ReadAllAsync(catalog.Database);
        return (all.Single(i => i.Sku == sku), all.Where(i => i.Sku != sku && matches(i)).ToList());
    }

    static List<(StoredVectors Item, double Score)> ByScore(StoredVectors query, IEnumerable<StoredVectors> others) =>
        [.. others.Select(o => (o, BruteForce.Cosine(query.Fused, o.Fused))).OrderByDescending(x => x.Item2)];

    static void AssertSkus(IEnumerable<string> expected, SimilarApi.SimilarResponse answer) =>
        Assert.Equal(expected, answer.Results.Select(r => r.Sku));

    [Fact]
    public async Task Diversity_picks_like_a_brute_force_maximal_marginal_relevance_and_changes_the_answer()
    {
        var (query, shoes) = await Reference(QuerySku, i => i.Category == "shoes");
        const double diversity = 0.6;
        var pool = ByScore(query, shoes);
        var expected = new List<StoredVectors>();
        while (expected.Count < 10)
        {
            var next = pool.Where(c => !expected.Contains(c.Item))
                .MaxBy(c => (1 - diversity) * c.Score - diversity * (expected.Count == 0 ? 0 : expected.Max(e => BruteForce.Cosine(c.Item.Fused, e.Fused))));
            expected.Add(next.Item);
        }

        var answer = await catalog.CreateClient().SimilarAsync(QuerySku, $"?category=shoes&diversity={diversity}");

        AssertSkus(expected.Select(e => e.Sku), answer);
        Assert.NotEqual(pool.Take(10).Select(p => p.Item.Sku), answer.Results.Select(r => r.Sku));
    }

    [Fact]
    public async Task A_brand_cap_keeps_the_best_of_each_brand_up_to_the_cap()
    {
        var (query, shoes) = await Reference(QuerySku, i => i.Category == "shoes");
        var expected = new List<string>();
        var perBrand = new Dictionary<string, int>();
        foreach (var (item, _) in ByScore(query, shoes))
        {
            if (perBrand.GetValueOrDefault(item.Brand!) == 1 || expected.Count == 6)
                continue;
            perBrand[item.Brand!] = 1;
            expected.Add(item.Sku);
        }

        var answer = await catalog.CreateClient().SimilarAsync(QuerySku, "?category=shoes&k=6&maxPerBrand=1");

        AssertSkus(expected, answer);
        Assert.NotEqual(ByScore(query, shoes).Take(expected.Count).Select(p => p.Item.Sku), expected); // the cap changes the answer
    }

    [Fact]
    public async Task The_boost_ranks_by_score_plus_the_boost_for_available_items()
    {
        // One brand (about 80 items, a fifth of them unavailable): the candidates are all of them.
        var (query, acme) = await Reference(QuerySku, i => i.Brand == "acme");
        const double boost = 0.05;
        var expected = ByScore(query, acme).OrderByDescending(c => c.Score + (c.Item.Available ? boost : 0)).Take(10).Select(c => c.Item.Sku).ToList();

        var answer = await catalog.CreateClient().SimilarAsync(QuerySku, $"?brand=acme&boostAvailable={boost}");

        Assert.InRange(acme.Count, 11, 100);
        AssertSkus(expected, answer);
        Assert.NotEqual(ByScore(query, acme).Take(10).Select(p => p.Item.Sku), expected);
        foreach (var result in answer.Results) // scores stay the cosines: the boost orders, it does not rewrite them
            Assert.True(Math.Abs(BruteForce.Cosine(query.Fused, acme.Single(s => s.Sku == result.Sku).Fused) - result.Score) < Tolerance);
    }

    [Fact]
    public async Task The_category_fallback_fills_a_page_the_filters_left_short_and_marks_what_it_added()
    {
        // The rare brand has 4 items, all books (SKUs 7, 107, 207, 307); the query item is a book too.
        var sku = SeededCatalog.SkuOf(17);
        var (query, books) = await Reference(sku, i => i.Category == "books");
        var rare = ByScore(query, books.Where(b => b.Brand == SeededCatalog.RareBrand)).Select(c => c.Item.Sku).ToList();
        var filler = ByScore(query, books.Where(b => b.Brand != SeededCatalog.RareBrand)).Take(10 - rare.Count).Select(c => c.Item.Sku);

        var client = catalog.CreateClient();
        var without = await client.SimilarAsync(sku, $"?brand={SeededCatalog.RareBrand}");
        var with = await client.SimilarAsync(sku, $"?brand={SeededCatalog.RareBrand}&fallback=category");

        Assert.Equal(4, rare.Count);
        AssertSkus(rare, without);
        AssertSkus([.. rare, .. filler], with);
        Assert.Equal([.. rare.Select(_ => false), .. filler.Select(_ => true)], with.Results.Select(r => r.Fallback));
    }

    [Fact]
    public async Task A_search_has_no_item_to_fall_back_on()
    {
        var response = await catalog.CreateClient().PostAsync("/search?fallback=category", new MultipartFormDataContent { { new StringContent("red shoe"), "text" } });
        await CatalogClient.AssertNamesFieldAsync(response, "fallback");
    }

    [Theory]
    [InlineData("?diversity=1.5", "diversity")]
    [InlineData("?diversity=-0.1", "diversity")]
    [InlineData("?maxPerCategory=0", "maxPerCategory")]
    [InlineData("?maxPerBrand=101", "maxPerBrand")]
    [InlineData("?boostAvailable=2", "boostAvailable")]
    [InlineData("?fallback=brand", "fallback")]
    public async Task A_bad_ranking_parameter_is_a_400_naming_it(string query, string field)
    {
        var response = await catalog.CreateClient().GetAsync($"/similar/{QuerySku}{query}");
        await CatalogClient.AssertNamesFieldAsync(response, field);
    }
}

/// <summary>Pinned and blocked pairs set through /rules, applied on item pages; each page checked against a brute force.</summary>
public sealed class SimilarRulesTests(SeededCatalog catalog) : IClassFixture<SeededCatalog>
{
    async Task<List<string>> BruteForceTop(string sku, int k, params string[] leaveOut)
    {
        var all = await BruteForce.ReadAllAsync(catalog.Database);
        var query = all.Single(i => i.Sku == sku);
        return [.. all.Where(i => i.Sku != sku && !leaveOut.Contains(i.Sku)).OrderByDescending(o => BruteForce.Cosine(query.Fused, o.Fused)).Take(k).Select(o => o.Sku)];
    }

    static async Task<HttpResponseMessage> PutRuleAsync(HttpClient admin, string sku, string other, object rule) =>
        await admin.PutAsJsonAsync($"/rules/{sku}/{other}", rule);

    [Fact]
    public async Task A_pin_shows_its_item_at_its_position_on_that_page_only_and_leaves_with_the_rule()
    {
        var admin = catalog.CreateAdminClient();
        var client = catalog.CreateClient();
        string page = SeededCatalog.SkuOf(30), pinned = SeededCatalog.SkuOf(333);
        var before = await client.GetAsync($"/similar/{page}?k=5");
        var etag = before.Headers.ETag!.Tag;

        var created = await PutRuleAsync(admin, page, pinned, new { kind = "pin", position = 2 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var answer = await client.SimilarAsync(page, "?k=5");
        var rest = await BruteForceTop(page, 4, pinned);
        Assert.Equal([rest[0], pinned, .. rest[1..]], answer.Results.Select(r => r.Sku));
        Assert.Equal([false, true, false, false, false], answer.Results.Select(r => r.Pinned));
        // One way: the pinned item's own page is as before.
        Assert.DoesNotContain((await client.SimilarAsync(pinned, "?k=100")).Results, r => r.Pinned);
        // The rule changed the page, so its old ETag no longer matches.
        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/similar/{page}?k=5") { Headers = { { "If-None-Match", etag } } };
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(conditional)).StatusCode);
        // A batch applies it as the page does.
        var batch = (await (await client.PostAsJsonAsync("/similar/batch?k=5", new { skus = new[] { page } })).Content.ReadFromJsonAsync<SimilarApi.SimilarBatchResponse>())!;
        Assert.Equal(answer.Results.Select(r => r.Sku), batch.Items[0].Results.Select(r => r.Sku));
        // Filters hold for pins too: an item of another category stays off a category-filtered page.
        Assert.DoesNotContain((await client.SimilarAsync(page, "?k=5&category=shirts")).Results, r => r.Sku == pinned);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/rules/{page}/{pinned}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/rules/{page}/{pinned}")).StatusCode);
        Assert.Equal(await BruteForceTop(page, 5), (await client.SimilarAsync(page, "?k=5")).Results.Select(r => r.Sku));
    }

    [Fact]
    public async Task A_block_both_ways_keeps_the_pair_apart_on_both_pages()
    {
        var admin = catalog.CreateAdminClient();
        var client = catalog.CreateClient();
        var page = SeededCatalog.SkuOf(40);
        var nearest = (await BruteForceTop(page, 1))[0];

        var created = await PutRuleAsync(admin, page, nearest, new { kind = "block", bothWays = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        Assert.Equal(await BruteForceTop(page, 10, nearest), (await client.SimilarAsync(page)).Results.Select(r => r.Sku));
        Assert.DoesNotContain((await client.SimilarAsync(nearest, "?k=100")).Results, r => r.Sku == page);
        var batch = (await (await client.PostAsJsonAsync("/similar/batch", new { skus = new[] { page, nearest } })).Content.ReadFromJsonAsync<SimilarApi.SimilarBatchResponse>())!;
        Assert.DoesNotContain(batch.Items[0].Results, r => r.Sku == nearest);
        Assert.DoesNotContain(batch.Items[1].Results, r => r.Sku == page);
        var listed = (await admin.GetFromJsonAsync<RulesApi.RulesResponse>($"/rules?sku={nearest}"))!;
        Assert.Equal([(page, nearest, "block", true)], listed.Rules.Select(r => (r.Sku, r.OtherSku, r.Kind, r.BothWays)));

        // A new rule for the pair replaces it (from either side): now a pin, one way, on the other page.
        var replaced = await PutRuleAsync(admin, nearest, page, new { kind = "pin", position = 1 });
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal(page, (await client.SimilarAsync(nearest)).Results[0].Sku);
        Assert.Contains((await client.SimilarAsync(page, "?k=100")).Results, r => r.Sku == nearest);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/rules/{nearest}/{page}")).StatusCode);
    }

    [Theory]
    [InlineData("""{"kind": "pin"}""", "position")]
    [InlineData("""{"kind": "pin", "position": 101}""", "position")]
    [InlineData("""{"kind": "block", "position": 1}""", "position")]
    [InlineData("""{"kind": "boost"}""", "kind")]
    [InlineData("""{}""", "kind")]
    public async Task A_bad_rule_is_a_400_naming_the_field(string body, string field)
    {
        var response = await catalog.CreateAdminClient().PutAsync($"/rules/{SeededCatalog.SkuOf(1)}/{SeededCatalog.SkuOf(2)}",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await CatalogClient.AssertNamesFieldAsync(response, field);
    }

    [Fact]
    public async Task Rules_need_the_admin_key_and_two_different_skus()
    {
        var anonymous = await catalog.CreateClient().PutAsJsonAsync($"/rules/{SeededCatalog.SkuOf(1)}/{SeededCatalog.SkuOf(2)}", new { kind = "block" });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await catalog.CreateClient().GetAsync("/rules")).StatusCode);
        var same = await PutRuleAsync(catalog.CreateAdminClient(), SeededCatalog.SkuOf(1), SeededCatalog.SkuOf(1), new { kind = "block" });
        await CatalogClient.AssertNamesFieldAsync(same, "otherSku");
    }
}
