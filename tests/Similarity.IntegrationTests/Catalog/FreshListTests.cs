using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Pgvector;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>
/// Precomputed answers while the list worker is paused: the stored lists merged with the queued changes must equal a
/// brute force over every stored vector, through inserts, edits and deletes, on this instance and on another one over
/// the same database. The tests share one catalog and run one after another, each on items the others leave alone.
/// </summary>
public sealed class FreshListTests(FreshCatalog catalog) : IClassFixture<FreshCatalog>
{
    const double Tolerance = 1e-5;

    /// <summary>A second service over the catalog's database: another instance behind the same load balancer.</summary>
    sealed class OtherInstance(FreshCatalog catalog, int recentLimit = 2000) : SimilarityApp(catalog.Database, catalog.SpoolPath)
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [
            new("Similarity:Search:ListSize", FreshCatalog.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("Similarity:Search:RecentChangesLimit", recentLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ];
    }

    /// <summary>GET /similar/{sku} answers the exact top 10 of the stored vectors now, from <paramref name="source"/>.</summary>
    async Task<SimilarApi.SimilarResponse> AssertExactAsync(HttpClient client, string sku, string source = "precomputed")
    {
        var answer = await client.SimilarAsync(sku);
        var all = await BruteForce.ReadAllAsync(catalog.Database);
        var query = all.Single(i => i.Sku == sku);
        var truth = all.Where(o => o.Sku != sku).Select(o => (o.Sku, Score: BruteForce.Cosine(query.Fused, o.Fused)))
            .OrderByDescending(o => o.Score).ThenBy(o => o.Sku, StringComparer.Ordinal).Take(10).ToList();
        Assert.True(source == answer.Source, $"{sku} answered from {answer.Source}, not {source}");
        Assert.Equal(truth.Select(t => t.Sku), answer.Results.Select(r => r.Sku));
        for (var i = 0; i < truth.Count; i++)
            Assert.True(Math.Abs(truth[i].Score - answer.Results[i].Score) < Tolerance, $"{sku}'s score of {truth[i].Sku}");
        return answer;
    }

    async Task<float[]> VectorOfAsync(string sku) =>
        [.. (await BruteForce.ReadAllAsync(catalog.Database)).Single(i => i.Sku == sku).Fused.Select(v => (float)v)];

    async Task ExecuteAsync(string sql, params (string Name, object Value)[] values)
    {
        await using var dataSource = catalog.NewDataSource();
        await using var command = dataSource.CreateCommand(sql);
        foreach (var (name, value) in values)
            command.Parameters.Add(new NpgsqlParameter(name, value));
        await command.ExecuteNonQueryAsync();
    }

    Task InsertAsync(string sku, float[] vector) => ExecuteAsync("""
        INSERT INTO items (sku, title, category, price, currency, available, text_sha256, fingerprint, embedding, image_weight, text_weight)
        VALUES (@sku, @sku, 'new', 10, 'EUR', true, sha256(@sku::bytea), @fingerprint, @embedding, 0.5, 0.5)
        """, ("sku", sku), ("fingerprint", catalog.Fingerprint), ("embedding", new Vector(vector)));

    Task SetVectorAsync(string sku, float[] vector) =>
        ExecuteAsync("UPDATE items SET embedding = @embedding WHERE sku = @sku", ("sku", sku), ("embedding", new Vector(vector)));

    async Task<long> QueuedAsync()
    {
        await using var dataSource = catalog.NewDataSource();
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM similar_list_queue");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Answers_merge_inserts_edits_and_deletes_the_worker_has_not_folded_in_yet()
    {
        var client = catalog.CreateClient();
        var admin = catalog.CreateAdminClient();
        string[] pages = [.. Enumerable.Range(0, 5).Select(FreshCatalog.SkuOf)];
        var lists = await catalog.ListsAsync();
        async Task AllExactAsync(params string[] live)
        {
            foreach (var page in pages)
                await AssertExactAsync(client, page, live.Contains(page) ? "live" : "precomputed");
        }

        await using (await catalog.PauseWorkerAsync())
        {
            // A new item beside page 0 enters its page first.
            await InsertAsync("fr-new-0", catalog.Beside(await VectorOfAsync(pages[0])));
            Assert.Equal("fr-new-0", (await AssertExactAsync(client, pages[0])).Results[0].Sku);
            await AllExactAsync();

            // Page 1's nearest item moves to another cluster: it leaves the page.
            var moved = lists[pages[1]].Neighbours[0];
            await SetVectorAsync(moved, catalog.NearCentre(7));
            Assert.DoesNotContain(moved, (await AssertExactAsync(client, pages[1])).Results.Select(r => r.Sku));

            // An item of no list of page 2's moves beside it: it enters.
            var far = Enumerable.Range(100, 100).Select(FreshCatalog.SkuOf).First(s => !lists[pages[2]].Neighbours.Contains(s) && s != moved);
            await SetVectorAsync(far, catalog.Beside(await VectorOfAsync(pages[2])));
            Assert.Equal(far, (await AssertExactAsync(client, pages[2])).Results[0].Sku);

            // A delete shows in the answer right after DELETE returned, and so does the same SKU inserted again.
            var deleted = lists[pages[3]].Neighbours[0];
            Assert.True((await admin.DeleteAsync($"/items/{deleted}")).IsSuccessStatusCode);
            Assert.True((await admin.DeleteAsync("/items/fr-new-0")).IsSuccessStatusCode);
            Assert.DoesNotContain(deleted, (await AssertExactAsync(client, pages[3])).Results.Select(r => r.Sku));
            Assert.DoesNotContain("fr-new-0", (await AssertExactAsync(client, pages[0])).Results.Select(r => r.Sku));
            await InsertAsync(deleted, catalog.Beside(await VectorOfAsync(pages[3])));
            Assert.Equal(deleted, (await AssertExactAsync(client, pages[3])).Results[0].Sku);
            await AllExactAsync();

            // Most of page 4's list moves away: fewer than k listed items are sure to outrank the rest, so the index answers.
            foreach (var sku in lists[pages[4]].Neighbours.Take(16).Where(s => !pages.Contains(s)))
                await SetVectorAsync(sku, catalog.NearCentre(11));
            // The page's own item changed: its list is stale, and the index answers too.
            await SetVectorAsync(pages[2], catalog.NearCentre(9));
            await AllExactAsync(live: [pages[4], pages[2]]);
            Assert.True(await QueuedAsync() > 0, "the worker folded the changes in while it was paused");
        }
        await catalog.ListsAppliedAsync();
        await AllExactAsync();
    }

    [Fact]
    public async Task A_change_made_through_one_instance_shows_in_the_other_instances_precomputed_answers_at_once()
    {
        await using var other = new OtherInstance(catalog);
        await other.StartAsync();
        var reader = other.CreateClient();
        var admin = catalog.CreateAdminClient();
        var lists = await catalog.ListsAsync();
        var page = FreshCatalog.Embedded[0];
        var before = await AssertExactAsync(reader, page);

        await using (await catalog.PauseWorkerAsync())
        {
            // The same title as the page's item: the same vectors, so the new item is first on its page.
            await admin.PutItemAsync(new TestItem("fr-hat-copy", "red wool hat", "embedded"));
            Assert.Equal("fr-hat-copy", (await AssertExactAsync(reader, page)).Results[0].Sku);

            var gone = before.Results[1].Sku;
            Assert.True((await admin.DeleteAsync($"/items/{gone}")).IsSuccessStatusCode);
            Assert.DoesNotContain(gone, (await AssertExactAsync(reader, page)).Results.Select(r => r.Sku));

            // Another item of the page gets new vectors through PUT: it is scored as it is now.
            var edited = before.Results[2].Sku;
            await admin.PutItemAsync(new TestItem(edited, "a heavy iron anvil for the forge", "embedded"));
            await AssertExactAsync(reader, page);
            await AssertExactAsync(reader, lists[page].Neighbours.First(n => n != gone && n != edited && n.StartsWith("fr-", StringComparison.Ordinal) && !FreshCatalog.Embedded.Contains(n)));
            Assert.True(await QueuedAsync() > 0, "the worker folded the changes in while it was paused");
        }
        await catalog.ListsAppliedAsync();
        await AssertExactAsync(reader, page);
    }

    [Fact]
    public async Task More_queued_changes_than_the_limit_are_answered_by_the_index_search()
    {
        await using var limited = new OtherInstance(catalog, recentLimit: 1);
        await limited.StartAsync();
        var page = FreshCatalog.SkuOf(5);

        await using (await catalog.PauseWorkerAsync())
        {
            await InsertAsync("fr-new-5a", catalog.Beside(await VectorOfAsync(page)));
            await AssertExactAsync(limited.CreateClient(), page, "precomputed");
            await InsertAsync("fr-new-5b", catalog.Beside(await VectorOfAsync(page)));
            await AssertExactAsync(limited.CreateClient(), page, "live");
            await AssertExactAsync(catalog.CreateClient(), page, "precomputed");
        }
        await catalog.ListsAppliedAsync();
        await AssertExactAsync(limited.CreateClient(), page, "precomputed");
    }

    [Fact]
    public void The_similar_answer_is_written_from_source_generated_metadata_not_by_reflection()
    {
        var options = catalog.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;

        Assert.IsAssignableFrom<JsonSerializerContext>(options.GetTypeInfo(typeof(SimilarApi.SimilarResponse)).OriginatingResolver);
    }
}
