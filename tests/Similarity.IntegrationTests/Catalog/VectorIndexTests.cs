using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Similarity.Database;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>The HNSW index is built after start, concurrently: nothing waits for it, and /similar scans exactly meanwhile.</summary>
public sealed class VectorIndexTests
{
    sealed class App : SimilarityApp
    {
        public App(TestDatabase database, string spool) : base(database, spool)
        {
        }
    }

    static readonly string IndexName = Similarity.Models.CatalogIndex.NameOf(Similarity.Encoders.ModelManifest.Load(TestPaths.TinyManifest).Fingerprint);

    [Fact]
    public async Task Start_writes_and_readiness_do_not_wait_for_the_index_and_similar_scans_exactly_until_it_is_valid()
    {
        await using var database = await TestDatabase.CreateAsync();
        var spool = Directory.CreateTempSubdirectory("similarity-spool-").FullName;
        await MigrateAsync(database);
        // A writer's open transaction on items: CREATE INDEX CONCURRENTLY waits for it to end, a plain CREATE INDEX would block writes.
        await using var writer = await database.OpenAsync();
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var lockItems = new NpgsqlCommand("LOCK TABLE items IN ROW EXCLUSIVE MODE", writer, transaction))
            await lockItems.ExecuteNonQueryAsync();

        var app = new App(database, spool);
        try
        {
            var admin = app.CreateAdminClient(); // the start completes
            for (var i = 0; i < 12; i++)
                await admin.PutItemAsync(new TestItem($"ix-{i}", $"index item {i} {(i % 2 == 0 ? "green" : "blue")} wool"));

            var ready = await app.CreateClient().GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var body = await ready.Content.ReadAsStringAsync();
            Assert.Equal("Degraded", SimilarityApp.VectorIndexStatus(body));
            Assert.Contains("exact scan", body, StringComparison.Ordinal);
            Assert.Equal(false, await IndexEntryAsync(database));

            var exact = await app.CreateClient().SimilarAsync("ix-0", "?k=11");
            var all = await BruteForce.ReadAllAsync(database);
            var query = all.Single(v => v.Sku == "ix-0");
            var expected = all.Where(v => v.Sku != "ix-0").OrderByDescending(v => BruteForce.Cosine(query.Fused, v.Fused)).Select(v => v.Sku);
            Assert.Equal(expected, exact.Results.Select(r => r.Sku));

            await transaction.CommitAsync();
            await app.WaitForVectorIndexAsync();
            Assert.Equal(true, await database.ExecuteAsync("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", IndexName));
            Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync("/similar/ix-0")).StatusCode);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
            Directory.Delete(spool, recursive: true);
        }
    }

    [Fact]
    public async Task An_index_an_interrupted_build_left_invalid_is_dropped_and_built_again()
    {
        await using var database = await TestDatabase.CreateAsync();
        var spool = Directory.CreateTempSubdirectory("similarity-spool-").FullName;
        try
        {
            await using (var first = new App(database, spool))
            {
                first.CreateClient();
                await first.WaitForVectorIndexAsync();
            }
            // What a build cut short (a crash, a shutdown) leaves behind: an index PostgreSQL never uses.
            await database.ExecuteAsync("UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass($1)", IndexName);

            await using var second = new App(database, spool);
            second.CreateClient();
            await second.WaitForVectorIndexAsync();

            Assert.Equal(true, await database.ExecuteAsync("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", IndexName));
            Assert.Contains(second.Logs.Entries, e => e.Message.Contains("left invalid", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(spool, recursive: true);
        }
    }

    /// <summary>
    /// The index's indisvalid once its entry exists. The builder runs after the host starts, and CREATE INDEX
    /// CONCURRENTLY commits the (invalid) entry before it waits for the writer: until then there is nothing to read.
    /// </summary>
    static async Task<object> IndexEntryAsync(TestDatabase database)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (await database.ExecuteAsync("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", IndexName) is { } valid)
                return valid;
            Assert.True(DateTime.UtcNow < deadline, $"the builder never created {IndexName}'s entry");
            await Task.Delay(20);
        }
    }

    static async Task MigrateAsync(TestDatabase database)
    {
        var builder = new NpgsqlDataSourceBuilder(database.ConnectionString);
        builder.UseVector();
        await using var dataSource = builder.Build();
        await new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance).ApplyAsync(default);
    }
}
