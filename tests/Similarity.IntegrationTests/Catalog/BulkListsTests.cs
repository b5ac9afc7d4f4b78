using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Database;
using Similarity.Encoders;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>
/// 600 items stored by COPY before the service starts (as a first build, or a seeded catalog, finds them): every item is
/// queued and none has a list, so the worker takes the bulk path. Their vectors are clustered like a catalog's (groups
/// of alike products), so lists overlap heavily and a list written wrongly shows.
/// </summary>
public sealed class BulkCatalog : SimilarityApp
{
    public const int Size = 20, Count = 600;

    // Every service in this test process has a meter of the same name: measurements are kept by the meter's factory.
    readonly Dictionary<(object? Scope, string Path), long> _computed = [];
    MeterListener? _listener;

    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Search:ListSize", Size.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The worker's similarity.similar.lists_computed, by path, counted for this service only.</summary>
    public long Computed(string path)
    {
        var meters = Services.GetRequiredService<IMeterFactory>();
        lock (_computed)
            return _computed.GetValueOrDefault((meters, path));
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var manifest = ModelManifest.Load(TestPaths.TinyManifest);
        var builder = new NpgsqlDataSourceBuilder(Database.ConnectionString);
        builder.UseVector();
        await using (var dataSource = builder.Build())
        {
            await new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance).ApplyAsync(default);
            await using var connection = await dataSource.OpenConnectionAsync();
            var random = new Random(14);
            var centres = Enumerable.Range(0, 12).Select(_ => RandomVectors.Unit(RandomVectors.Gaussian(random, manifest.Fusion.Dimension))).ToArray();
            await using var writer = await connection.BeginBinaryImportAsync("""
                COPY items (sku, title, category, price, currency, available, text_sha256, fingerprint, embedding, image_weight, text_weight)
                FROM STDIN (FORMAT BINARY)
                """);
            for (var i = 0; i < Count; i++)
            {
                var centre = centres[random.Next(centres.Length)];
                await writer.StartRowAsync();
                await writer.WriteAsync($"bk-{i:D3}");
                await writer.WriteAsync($"item {i}");
                await writer.WriteAsync("things");
                await writer.WriteAsync(10m, NpgsqlDbType.Numeric);
                await writer.WriteAsync("EUR");
                await writer.WriteAsync(true);
                await writer.WriteAsync(BitConverter.GetBytes(i), NpgsqlDbType.Bytea);
                await writer.WriteAsync(manifest.Fingerprint);
                await writer.WriteAsync(new Vector(RandomVectors.Unit([.. centre.Zip(RandomVectors.Unit(RandomVectors.Gaussian(random, centre.Length)), (c, n) => c + 0.6f * n)])));
                await writer.WriteAsync(0.5f);
                await writer.WriteAsync(0.5f);
            }
            await writer.CompleteAsync();
        }

        // Listening before the service starts: its worker's first round may come as soon as the index is valid.
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "similarity.similar.lists_computed")
                    listener.EnableMeasurementEvents(instrument);
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "path")
                {
                    var key = (instrument.Meter.Scope, (string)tag.Value!);
                    lock (_computed)
                        _computed[key] = _computed.GetValueOrDefault(key) + value;
                }
            }
        });
        _listener.Start();
        await StartAsync();
        await ListsAppliedAsync();
    }

    public Task ListsAppliedAsync() => NeighbourLists.AppliedAsync(Database);

    public Task<Dictionary<string, (string[] Neighbours, double[] Scores)>> ListsAsync() => NeighbourLists.ReadAsync(Database);

    public override async ValueTask DisposeAsync()
    {
        _listener?.Dispose();
        await base.DisposeAsync();
    }
}

/// <summary>The bulk path's lists against a brute force over every stored vector, computed here.</summary>
public sealed class BulkListsTests(BulkCatalog catalog) : IClassFixture<BulkCatalog>
{
    /// <summary>
    /// Each list is exactly the item's true top n by fused cosine, in order, with its true scores: n is the list's capacity
    /// after a build (<paramref name="built"/>), and from the list size to the capacity after changes.
    /// </summary>
    async Task AssertListsAreExactAsync(bool built)
    {
        var all = await BruteForce.ReadAllAsync(catalog.Database);
        var lists = await catalog.ListsAsync();
        Assert.Equal(all.Select(i => i.Sku).Order(), lists.Keys.Order());
        var capacity = NeighbourList.CapacityOf(BulkCatalog.Size);
        foreach (var item in all)
        {
            var (neighbours, scores) = lists[item.Sku];
            Assert.InRange(neighbours.Length, built ? capacity : BulkCatalog.Size, capacity);
            var truth = all.Where(o => o.Sku != item.Sku).Select(o => (o.Sku, Score: BruteForce.Cosine(item.Fused, o.Fused)))
                .OrderByDescending(o => o.Score).ThenBy(o => o.Sku, StringComparer.Ordinal).Take(neighbours.Length).ToList();
            Assert.Equal(truth.Select(t => t.Sku), neighbours);
            for (var i = 0; i < truth.Count; i++)
                Assert.True(Math.Abs(truth[i].Score - scores[i]) < 1e-5, $"{item.Sku}'s score of {neighbours[i]}: {scores[i]}, truly {truth[i].Score}");
        }
    }

    [Fact]
    public async Task A_first_build_takes_the_bulk_path_and_every_list_is_the_exact_top_n_then_changes_keep_them_so()
    {
        Assert.Equal(BulkCatalog.Count, catalog.Computed("bulk"));
        Assert.Equal(0, catalog.Computed("item"));
        await AssertListsAreExactAsync(built: true);

        // Changes after the build: lists computed before them are not queued, so these go by the per-item rules. An item
        // given another's vector ties with it in every list (ties go by SKU, in the lists as here).
        await catalog.Database.ExecuteAsync("""
            UPDATE items SET embedding = (SELECT embedding FROM items WHERE sku = 'bk-' || lpad((n.i * 37 % 600)::text, 3, '0'))
            FROM generate_series(0, 9) n(i) WHERE sku = 'bk-' || lpad((n.i * 11)::text, 3, '0')
            """);
        await catalog.Database.ExecuteAsync("DELETE FROM items WHERE sku IN ('bk-005', 'bk-123', 'bk-321')");
        await catalog.ListsAppliedAsync();
        Assert.True(catalog.Computed("item") > 0, "the changes after the build went by the per-item rules");
        await AssertListsAreExactAsync(built: false);

        // More of one list's items deleted than its headroom above the list size: it is computed again, not left short.
        var page = (await catalog.ListsAsync())["bk-400"].Neighbours;
        var gone = page.Take(page.Length - BulkCatalog.Size + 1).ToArray();
        await catalog.Database.ExecuteAsync($"DELETE FROM items WHERE sku IN ({string.Join(", ", gone.Select(sku => $"'{sku}'"))})");
        await catalog.ListsAppliedAsync();
        Assert.DoesNotContain((await catalog.ListsAsync())["bk-400"].Neighbours, gone.Contains);
        await AssertListsAreExactAsync(built: false);
    }
}
