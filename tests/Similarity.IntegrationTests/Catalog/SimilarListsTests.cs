using System.Net.Http.Json;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>A catalog of 150 items whose neighbour lists keep 20 neighbours each: fewer than the catalog, so items enter and leave lists.</summary>
public sealed class ListedCatalog : SimilarityApp
{
    public const int Size = 20, Count = 150;
    static readonly string[] Words = ["red", "blue", "green", "black", "wool", "leather", "soft", "classic", "modern", "small", "large", "kids"];
    static readonly string[] Categories = ["shirts", "shoes", "bags", "lamps", "mugs"];

    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Search:ListSize", Size.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    public static string SkuOf(int i) => $"li-{i:D3}";

    public static TestItem ItemOf(int i, int seed)
    {
        var random = new Random(seed);
        var category = Categories[i % Categories.Length];
        return new TestItem(SkuOf(i), $"{Words[random.Next(Words.Length)]} {Words[random.Next(Words.Length)]} {category[..^1]}", category,
            Brand: i % 30 == 3 ? "Rarebrand" : "acme", Price: 10 + i, Image: i % 3 == 0 ? TestImages.Noise(40, 40, seed: seed) : null);
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var client = CreateAdminClient();
        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) => await client.PutItemAsync(ItemOf(i, seed: i)));
        await ListsAppliedAsync();
    }

    public Task ListsAppliedAsync() => NeighbourLists.AppliedAsync(Database);

    public Task<Dictionary<string, (string[] Neighbours, double[] Scores)>> ListsAsync() => NeighbourLists.ReadAsync(Database);
}

/// <summary>
/// The neighbour lists against a brute force over every stored vector, as the catalog changes. The tests share
/// one catalog and run one after another: each uses items that the others leave alone.
/// </summary>
public sealed class SimilarListsTests(ListedCatalog catalog) : IClassFixture<ListedCatalog>
{
    const double Tolerance = 1e-5;

    /// <summary>
    /// Every list holds the catalog's true top n by fused cosine, for an n from the list size to its capacity (recall at
    /// least 0.99 over all lists), each with its true score.
    /// </summary>
    async Task AssertListsAreTrueAsync()
    {
        var all = await BruteForce.ReadAllAsync(catalog.Database);
        var lists = await catalog.ListsAsync();
        Assert.Equal(all.Select(i => i.Sku).Order(), lists.Keys.Order());
        double found = 0, wanted = 0;
        foreach (var item in all)
        {
            var (neighbours, scores) = lists[item.Sku];
            Assert.InRange(neighbours.Length, Math.Min(ListedCatalog.Size, all.Count - 1), Math.Min(NeighbourList.CapacityOf(ListedCatalog.Size), all.Count - 1));
            var truth = all.Where(o => o.Sku != item.Sku).Select(o => (o.Sku, Score: BruteForce.Cosine(item.Fused, o.Fused)))
                .OrderByDescending(o => o.Score).Take(neighbours.Length).ToList();
            for (var i = 0; i < neighbours.Length; i++)
            {
                var other = all.Single(o => o.Sku == neighbours[i]);
                Assert.True(Math.Abs(BruteForce.Cosine(item.Fused, other.Fused) - scores[i]) < Tolerance, $"{item.Sku}'s score of {neighbours[i]}");
            }
            found += truth.Count(t => neighbours.Contains(t.Sku));
            wanted += truth.Count;
        }
        Assert.True(found / wanted >= 0.99, $"recall of the lists: {found / wanted:F4}");
    }

    [Fact]
    public async Task The_lists_hold_each_items_true_neighbours_and_stay_true_through_changes_and_deletes()
    {
        await AssertListsAreTrueAsync();

        var admin = catalog.CreateAdminClient();
        for (var i = 0; i < 12; i++)
            await admin.PutItemAsync(ListedCatalog.ItemOf(i * 7, seed: 1000 + i)); // new texts and pictures: new vectors
        var deleted = Enumerable.Range(0, 6).Select(i => ListedCatalog.SkuOf(5 + i * 11)).ToList();
        foreach (var sku in deleted)
        {
            var response = await admin.DeleteAsync($"/items/{sku}");
            Assert.True(response.IsSuccessStatusCode, $"DELETE /items/{sku}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        await catalog.ListsAppliedAsync();

        await AssertListsAreTrueAsync();
        Assert.DoesNotContain((await catalog.ListsAsync()).Values, list => list.Neighbours.Intersect(deleted).Any());
    }

    [Fact]
    public async Task The_common_call_is_answered_from_the_list_and_the_others_by_the_index_search()
    {
        var client = catalog.CreateClient();
        var sku = ListedCatalog.SkuOf(44);
        var list = (await catalog.ListsAsync())[sku];

        var common = await client.SimilarAsync(sku);
        Assert.Equal("precomputed", common.Source);
        Assert.Equal(list.Neighbours.Take(10), common.Results.Select(r => r.Sku));
        Assert.Equal(list.Scores.Take(10).Select(s => Math.Round(s, 5)), common.Results.Select(r => Math.Round(r.Score, 5)));
        // Filters apply to the list's items, which are still read live (a PATCHed price counts at once).
        var filtered = await client.SimilarAsync(sku, "?k=3&priceMax=100");
        Assert.Equal("precomputed", filtered.Source);
        Assert.Equal(list.Neighbours.Where(n => int.Parse(n[3..], System.Globalization.CultureInfo.InvariantCulture) + 10 <= 100).Take(3), filtered.Results.Select(r => r.Sku));

        Assert.Equal("live", (await client.SimilarAsync(sku, "?imageWeight=1&textWeight=1")).Source);
        Assert.Equal("live", (await client.SimilarAsync(sku, "?diversity=0.5")).Source);
        Assert.Equal("live", (await client.SimilarAsync(sku, "?k=21")).Source); // more than a list holds
        // A filter the list cannot satisfy k times (5 items of the rare brand) goes live and still finds them all.
        var rare = await client.SimilarAsync(sku, "?brand=Rarebrand&k=5");
        Assert.Equal("live", rare.Source);
        Assert.Equal(5, rare.Results.Count);
    }

    [Fact]
    public async Task A_new_near_copy_enters_its_originals_list_first_and_leaves_it_when_deleted()
    {
        var admin = catalog.CreateAdminClient();
        var original = ListedCatalog.ItemOf(62, seed: 62);
        var copy = original with { Sku = "li-copy" };
        await admin.PutItemAsync(copy);
        await catalog.ListsAppliedAsync();

        var page = await catalog.CreateClient().SimilarAsync(original.Sku);
        Assert.Equal("precomputed", page.Source);
        Assert.Equal("li-copy", page.Results[0].Sku);

        Assert.True((await admin.DeleteAsync("/items/li-copy")).IsSuccessStatusCode);
        await catalog.ListsAppliedAsync();
        var after = (await catalog.ListsAsync())[original.Sku];
        Assert.DoesNotContain("li-copy", after.Neighbours);
        Assert.True(after.Neighbours.Length >= ListedCatalog.Size, $"{after.Neighbours.Length} neighbours after the delete");
    }

    [Fact]
    public async Task Rules_apply_on_pages_answered_from_the_neighbour_list()
    {
        var admin = catalog.CreateAdminClient();
        var client = catalog.CreateClient();
        string page = ListedCatalog.SkuOf(92), pinned = ListedCatalog.SkuOf(93);
        var list = (await catalog.ListsAsync())[page];
        var blocked = list.Neighbours[0];
        try
        {
            Assert.True((await admin.PutAsJsonAsync($"/rules/{page}/{pinned}", new { kind = "pin", position = 1 })).IsSuccessStatusCode);
            Assert.True((await admin.PutAsJsonAsync($"/rules/{page}/{blocked}", new { kind = "block" })).IsSuccessStatusCode);

            var answer = await client.SimilarAsync(page, "?k=5");

            Assert.Equal("precomputed", answer.Source);
            Assert.Equal([pinned, .. list.Neighbours.Where(n => n != blocked && n != pinned).Take(4)], answer.Results.Select(r => r.Sku));
            Assert.True(answer.Results[0].Pinned);
        }
        finally
        {
            // The catalog is shared with the other tests of the class: the rules go even when an assertion failed.
            await admin.DeleteAsync($"/rules/{page}/{pinned}");
            await admin.DeleteAsync($"/rules/{page}/{blocked}");
        }
    }
}

/// <summary>The list worker's rounds failing show in /health/ready, and the queued changes wait for the next good round.</summary>
public sealed class SimilarListsHealthTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    static string? ListsStatus(string health) =>
        System.Text.Json.JsonElement.Parse(health).GetProperty("entries").GetProperty("similarLists").GetProperty("status").GetString();

    async Task<string?> WaitForListsStatusAsync(string wanted)
    {
        var client = app.CreateClient();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        string? status;
        while ((status = ListsStatus(await client.GetStringAsync("/health/ready"))) != wanted && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        return status;
    }

    [Fact]
    public async Task Failing_rounds_make_ready_degraded_and_the_changes_are_applied_once_rounds_succeed()
    {
        await app.StartAsync(); // DDL below waits for the index build, or deadlocks with it
        await using var connection = new NpgsqlConnection(app.Database.ConnectionString);
        await connection.OpenAsync();
        async Task ExecuteAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
        var admin = app.CreateAdminClient();
        await admin.PutItemAsync(new TestItem("hl-1", "red wool hat", "hats"));

        await ExecuteAsync("ALTER TABLE similar_lists RENAME TO similar_lists_away");
        await admin.PutItemAsync(new TestItem("hl-2", "blue wool hat", "hats"));
        Assert.Equal("Degraded", await WaitForListsStatusAsync("Degraded"));

        await ExecuteAsync("ALTER TABLE similar_lists_away RENAME TO similar_lists");
        Assert.Equal("Healthy", await WaitForListsStatusAsync("Healthy"));
        var page = await app.CreateClient().SimilarAsync("hl-1", "?k=1");
        Assert.Equal("precomputed", page.Source);
        Assert.Equal(["hl-2"], page.Results.Select(r => r.Sku));
    }
}
