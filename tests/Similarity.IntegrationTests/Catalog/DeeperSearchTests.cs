using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Database;
using Similarity.Encoders;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>
/// 16 categories stored by COPY, each a tight cluster around its own centre, so an item's nearest neighbours are all
/// of its own category first: one large category (600 items), one medium (150) and fourteen small ones (40 each). The
/// search may fetch at most <see cref="MaxCandidates"/> candidates, more than the medium category and fewer than the large.
/// </summary>
public sealed class DeeperCatalog : SimilarityApp
{
    public const int MaxCandidates = 400;
    public static readonly int[] Sizes = [600, 150, .. Enumerable.Repeat(40, 14)];

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Similarity:Search:ListSize", "0"), new("Similarity:Search:MaxCandidates", MaxCandidates.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    public static string SkuOf(int category, int i) => $"dc-{category:D2}-{i:D3}";

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
            var random = new Random(16);
            await using var writer = await connection.BeginBinaryImportAsync("""
                COPY items (sku, title, category, price, currency, available, text_sha256, fingerprint, embedding, image_weight, text_weight)
                FROM STDIN (FORMAT BINARY)
                """);
            for (var category = 0; category < Sizes.Length; category++)
            {
                var centre = RandomVectors.Unit(RandomVectors.Gaussian(random, manifest.Fusion.Dimension));
                for (var i = 0; i < Sizes[category]; i++)
                {
                    await writer.StartRowAsync();
                    await writer.WriteAsync(SkuOf(category, i));
                    await writer.WriteAsync($"item {i} of category {category}");
                    await writer.WriteAsync($"category-{category:D2}");
                    await writer.WriteAsync(10m, NpgsqlDbType.Numeric);
                    await writer.WriteAsync("EUR");
                    await writer.WriteAsync(true);
                    await writer.WriteAsync(BitConverter.GetBytes(category * 1000 + i), NpgsqlDbType.Bytea);
                    await writer.WriteAsync(manifest.Fingerprint);
                    await writer.WriteAsync(new Vector(RandomVectors.Unit([.. centre.Zip(RandomVectors.Unit(RandomVectors.Gaussian(random, centre.Length)), (c, n) => c + 0.6f * n)])));
                    await writer.WriteAsync(0.5f);
                    await writer.WriteAsync(0.5f);
                }
            }
            await writer.CompleteAsync();
        }
        await StartAsync();
        await WaitForVectorIndexAsync();
    }

}

/// <summary>A category cap searches deeper until k results pass it, within the bound on the work, and says when it stopped short.</summary>
public sealed class DeeperSearchTests(DeeperCatalog catalog) : IClassFixture<DeeperCatalog>
{
    [Fact]
    public async Task A_cap_of_one_per_category_fills_the_page_from_ten_categories_when_the_first_candidates_are_all_of_one()
    {
        // The medium category's 149 other items are its nearest: the first 100 candidates (k × 10) hold one category only.
        var sku = DeeperCatalog.SkuOf(1, 0);

        var answer = await catalog.CreateClient().SimilarAsync(sku, "?k=10&maxPerCategory=1");

        Assert.Equal(10, answer.Results.Count);
        Assert.Equal(10, answer.Results.Select(r => r.Category).Distinct().Count());
        // The other categories' items are all about as far from the query (nearly orthogonal clusters), so which of them
        // the approximate index finds first is its own; what the cap guarantees is the page in score order, one per category.
        Assert.Equal(answer.Results.Select(r => r.Score).OrderDescending(), answer.Results.Select(r => r.Score));
        Assert.Equal(sku[..5], answer.Results[0].Sku[..5]); // the nearest is of the query's own category
        Assert.Equal((false, false), (answer.Exhausted, answer.StoppedEarly));
    }

    [Fact]
    public async Task A_search_that_reaches_its_bound_short_of_k_says_it_stopped_early()
    {
        // The large category's 599 other items are nearer than any other category's, and the bound is 400 candidates.
        var answer = await catalog.CreateClient().SimilarAsync(DeeperCatalog.SkuOf(0, 0), "?k=10&maxPerCategory=1");

        Assert.InRange(answer.Results.Count, 1, 9);
        Assert.Equal((false, true), (answer.Exhausted, answer.StoppedEarly));
    }

    [Fact]
    public async Task A_page_the_filters_leave_short_says_the_catalog_is_exhausted_and_a_full_page_neither()
    {
        var client = catalog.CreateClient();
        var small = DeeperCatalog.SkuOf(5, 0);

        var filtered = await client.SimilarAsync(small, "?k=50&category=category-05");
        var full = await client.SimilarAsync(small, "?k=10");

        Assert.Equal(39, filtered.Results.Count);
        Assert.Equal((true, false), (filtered.Exhausted, filtered.StoppedEarly));
        Assert.Equal(10, full.Results.Count);
        Assert.Equal((false, false), (full.Exhausted, full.StoppedEarly));
    }
}
