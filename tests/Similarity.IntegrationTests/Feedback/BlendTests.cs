using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;
using static Similarity.IntegrationTests.Feedback.CoEngagementScript;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>
/// Twenty text-only items in four categories, neighbour lists of 10 (12 kept: an item's farthest are outside its list),
/// the rebuild left to POST /feedback/rebuild, no exploration.
/// </summary>
public sealed class BlendCatalog : SimilarityApp
{
    public const int Count = 20;
    static readonly string[] Categories = ["mugs", "lamps", "socks", "chairs"];
    static readonly string[] Words = ["red", "blue", "ceramic", "wool", "oak", "steel", "striped", "tall", "round", "soft"];

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Similarity:Feedback:RebuildPeriod", "1.00:00:00"), new("Similarity:Feedback:ExploreShare", "0"), new("Similarity:Search:ListSize", "10")];

    public static string SkuOf(int i) => $"bl-{i:D2}";

    public static string CategoryOf(int i) => Categories[i % Categories.Length];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var client = CreateAdminClient();
        for (var i = 0; i < Count; i++)
            await client.PutItemAsync(new TestItem(SkuOf(i), $"{Words[i % Words.Length]} {Words[(i * 3 + 1) % Words.Length]} {CategoryOf(i)[..^1]}", CategoryOf(i)));
        await NeighbourLists.AppliedAsync(Database);
    }
}

/// <summary>
/// The blend on /similar: a pair that three visitors engaged with together enters the query item's page after one
/// rebuild, with its reasons; blend=0 stays today's answer byte for byte; items without events rank by content alone;
/// on the neighbour-list path, the index-search path and the batch, under the page's filters.
/// </summary>
public sealed class BlendTests(BlendCatalog catalog) : IClassFixture<BlendCatalog>
{
    const string Query = "bl-00";
    const int Precision = 4;

    static List<JsonElement> Results(JsonElement answer) => [.. answer.GetProperty("results").EnumerateArray()];

    static string Sku(JsonElement result) => result.GetProperty("sku").GetString()!;

    static double? CoEngaged(JsonElement result) =>
        result.GetProperty("reasons").TryGetProperty("coEngaged", out var part) ? part.GetDouble() : null;

    [Fact]
    public async Task A_pair_engaged_by_three_visitors_enters_the_page_after_one_rebuild_and_blend_0_stays_todays_answer()
    {
        var client = catalog.CreateClient();
        await NeighbourLists.AppliedAsync(catalog.Database);
        var all = await BruteForce.ReadAllAsync(catalog.Database);
        var query = all.Single(i => i.Sku == Query);
        var cosine = all.Where(i => i.Sku != Query).ToDictionary(i => i.Sku, i => BruteForce.Cosine(query.Fused, i.Fused));
        var far = cosine.MinBy(c => c.Value).Key; // the item content ranks last
        var contentOrder = cosine.OrderByDescending(c => c.Value).Select(c => c.Key).Take(10).ToList();
        Assert.DoesNotContain(far, contentOrder);

        var before = WithoutRequestId(await client.GetStringAsync($"/similar/{Query}?blend=0"));
        Assert.DoesNotContain("reasons", before);
        var blendedBefore = JsonElement.Parse(await client.GetStringAsync($"/similar/{Query}?blend=2"));
        Assert.Equal(contentOrder, Results(blendedBefore).Select(Sku)); // no events: content alone
        Assert.All(Results(blendedBefore), r => Assert.Null(CoEngaged(r)));

        var etag = (await client.GetAsync($"/similar/{Query}?blend=2")).Headers.ETag!;

        await InsertEventsAsync(catalog.Database, EngagedTogether("blend", Query, far));
        await RebuildAsync(catalog);

        // A cached blended answer is stale now: its ETag no longer matches.
        var conditional = new HttpRequestMessage(HttpMethod.Get, $"/similar/{Query}?blend=2");
        conditional.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(conditional)).StatusCode);

        // blend=0: the same bytes as before anything was learned (but the answer's own id).
        Assert.Equal(before, WithoutRequestId(await client.GetStringAsync($"/similar/{Query}?blend=0")));

        // Each visitor's session weighs the two items alike: weighted Jaccard 1 (and the query item's only pair: 1 by any score), so the co-engaged part is blend × 1.
        var listed = JsonElement.Parse(await client.GetStringAsync($"/similar/{Query}?blend=2"));
        Assert.Equal(ResultSource.NeighbourList, listed.GetProperty("source").GetString());
        var searched = JsonElement.Parse(await client.GetStringAsync($"/similar/{Query}?blend=2&maxPerCategory=100"));
        Assert.Equal(ResultSource.IndexSearch, searched.GetProperty("source").GetString());
        foreach (var answer in new[] { listed, searched })
        {
            var results = Results(answer);
            Assert.Equal(far, Sku(results[0]));
            Assert.Equal(2.0, CoEngaged(results[0])!.Value, Precision);
            Assert.Equal(cosine[far], results[0].GetProperty("reasons").GetProperty("content").GetDouble(), Precision);
            Assert.Equal(cosine[far] + 2, results[0].GetProperty("score").GetDouble(), Precision);
            // The others have no events: by content alone, in content order, their score their cosine.
            Assert.Equal(contentOrder.Take(9), results.Skip(1).Select(Sku));
            Assert.All(results.Skip(1), r => Assert.Null(CoEngaged(r)));
            Assert.All(results.Skip(1), r => Assert.Equal(cosine[Sku(r)], r.GetProperty("score").GetDouble(), Precision));
        }

        var batch = await client.PostAsJsonAsync($"/similar/batch?blend=2", new { skus = new[] { Query } });
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        var entry = (await batch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items")[0];
        Assert.Equal([far, .. contentOrder.Take(9)], entry.GetProperty("results").EnumerateArray().Select(Sku));

        // The page's filters apply to co-engaged items too.
        var otherCategory = BlendCatalog.CategoryOf(BlendCatalog.Count - 1) == all.Single(i => i.Sku == far).Category
            ? BlendCatalog.CategoryOf(BlendCatalog.Count - 2) : BlendCatalog.CategoryOf(BlendCatalog.Count - 1);
        var filtered = JsonElement.Parse(await client.GetStringAsync($"/similar/{Query}?blend=2&category={otherCategory}"));
        Assert.DoesNotContain(far, Results(filtered).Select(Sku));

        var coEngaged = JsonElement.Parse(await client.GetStringAsync($"/co-engaged/{Query}"));
        var item = Assert.Single(coEngaged.GetProperty("items").EnumerateArray());
        Assert.Equal(far, Sku(item));
        Assert.Equal(3, item.GetProperty("visitors").GetInt32());
        Assert.Equal(1.0, item.GetProperty("score").GetDouble(), Precision);
    }

    [Fact]
    public async Task A_new_item_without_events_is_on_the_page_from_its_first_upsert_by_content()
    {
        var query = (await BruteForce.ReadAllAsync(catalog.Database)).Single(i => i.Sku == Query);
        await catalog.CreateAdminClient().PutItemAsync(new TestItem("bl-new", "red blue mug", "mugs"));
        var stored = (await BruteForce.ReadAllAsync(catalog.Database)).Single(i => i.Sku == "bl-new");

        var answer = JsonElement.Parse(await catalog.CreateClient().GetStringAsync($"/similar/{Query}?blend=1&k=20"));

        var result = Results(answer).Single(r => Sku(r) == "bl-new");
        Assert.Null(CoEngaged(result));
        Assert.Equal(BruteForce.Cosine(query.Fused, stored.Fused), result.GetProperty("score").GetDouble(), Precision);
    }

    [Fact]
    public async Task A_co_engaged_candidate_is_ranked_by_the_rebuilds_cosine_only_while_neither_row_has_changed()
    {
        const string query = "bl-05";
        var client = catalog.CreateClient();
        var all = await BruteForce.ReadAllAsync(catalog.Database);
        var fused = all.Single(i => i.Sku == query).Fused;
        var cosine = all.Where(i => i.Sku != query && i.Sku.StartsWith("bl-", StringComparison.Ordinal) && i.Sku != "bl-new" && i.Sku != Query)
            .ToDictionary(i => i.Sku, i => BruteForce.Cosine(fused, i.Fused));
        var far = cosine.MinBy(c => c.Value).Key;
        await InsertEventsAsync(catalog.Database, EngagedTogether("stored", query, far));
        await RebuildAsync(catalog);

        // The rebuild stored the pair's cosine (computed here from the vectors) with both rows' versions.
        Assert.Equal(cosine[far], Convert.ToDouble(await catalog.Database.ExecuteAsync(
            "SELECT content FROM co_engagement WHERE sku = $1 AND other_sku = $2", query, far)), Precision);
        Assert.Equal(true, await catalog.Database.ExecuteAsync(
            "SELECT c.sku_version = a.xmin AND c.other_version = b.xmin FROM co_engagement c JOIN items a ON a.sku = c.sku JOIN items b ON b.sku = c.other_sku WHERE c.sku = $1 AND c.other_sku = $2", query, far));

        // With a blend this small the far item stays off the page by its true cosine; a stored cosine of 0.99 puts it on:
        // the page read the stored one.
        const string page = $"/similar/{query}?blend=0.01";
        async Task<List<string>> PageAsync()
        {
            var answer = JsonElement.Parse(await client.GetStringAsync(page));
            Assert.Equal(ResultSource.NeighbourList, answer.GetProperty("source").GetString());
            return [.. Results(answer).Select(Sku)];
        }
        Assert.DoesNotContain(far, await PageAsync());
        await catalog.Database.ExecuteAsync("UPDATE co_engagement SET content = 0.99 WHERE sku = $1 AND other_sku = $2", query, far);
        Assert.Contains(far, await PageAsync());

        // Either row written since (a price: its vectors unchanged, nothing queued): the cosine is computed again.
        var admin = catalog.CreateAdminClient();
        foreach (var written in new[] { far, query })
        {
            using var patch = await admin.PatchAsync($"/items/{written}", new StringContent("""{"price": 12}""", System.Text.Encoding.UTF8, "application/merge-patch+json"));
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
            Assert.DoesNotContain(far, await PageAsync());
            await RebuildAsync(catalog); // the versions of the row written now
            await catalog.Database.ExecuteAsync("UPDATE co_engagement SET content = 0.99 WHERE sku = $1 AND other_sku = $2", query, far);
            Assert.Contains(far, await PageAsync());
        }
    }

    [Theory]
    [InlineData("/similar/bl-00?blend=-1")]
    [InlineData("/similar/bl-00?blend=11")]
    public async Task A_blend_outside_0_to_10_is_refused_naming_it(string path) =>
        await CatalogClient.AssertNamesFieldAsync(await catalog.CreateClient().GetAsync(path), "blend");

    [Fact]
    public async Task Co_engaged_items_of_a_missing_item_are_a_404() =>
        Assert.Equal(HttpStatusCode.NotFound, (await catalog.CreateClient().GetAsync("/co-engaged/no-such-item")).StatusCode);

    /// <summary>The answer without its <c>requestId</c>, which names each answer anew.</summary>
    static string WithoutRequestId(string json) =>
        System.Text.RegularExpressions.Regex.Replace(json, "\"requestId\":\"[0-9a-f-]{36}\",?", "");
}
