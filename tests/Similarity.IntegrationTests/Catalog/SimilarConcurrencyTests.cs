using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Similarity.Database;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Catalog;

public sealed class SimilarConcurrencyTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task Fifty_concurrent_similar_requests_during_a_stream_of_upserts_all_succeed()
    {
        var admin = app.CreateAdminClient();
        for (var i = 0; i < 60; i++)
            await admin.PutItemAsync(new TestItem($"c-{i}", $"concurrent item {i} blue cotton", i % 2 == 0 ? "shirts" : "hats"));

        var writes = Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
                await admin.PutItemAsync(new TestItem($"c-{i % 60}", $"concurrent item {i} rewritten {i % 7}", "shirts", Price: i));
        });
        var reader = app.CreateClient();
        var reads = Enumerable.Range(0, 50).Select(async i =>
        {
            var response = await reader.GetAsync($"/similar/c-{i % 60}?k=5&category={(i % 3 == 0 ? "shirts" : "hats")}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var answer = (await response.Content.ReadFromJsonAsync<SimilarApi.SimilarResponse>())!;
            Assert.Equal($"c-{i % 60}", answer.Sku);
            Assert.InRange(answer.Results.Count, 1, 5);
            Assert.DoesNotContain(answer.Results, r => r.Sku == answer.Sku);
            Assert.All(answer.Results, r => Assert.InRange(r.Score, -1.0001, 1.0001));
            Assert.True(answer.Results.Zip(answer.Results.Skip(1)).All(p => p.First.Score >= p.Second.Score), "sorted by score");
        });
        await Task.WhenAll(reads.Append(writes));
    }

    [Fact]
    public async Task Similar_leaves_no_search_settings_on_the_connections_it_returns_to_the_pool()
    {
        // The reads pool skips the reset on return, which is safe only while searches change no session state.
        var admin = app.CreateAdminClient();
        for (var i = 0; i < 5; i++)
            await admin.PutItemAsync(new TestItem($"s-{i}", $"settings item {i} green wool", "scarves"));
        // The index search sets the search breadth; it runs once the index is valid, for what a neighbour list cannot
        // answer (re-weighted scores), which "source" shows.
        await app.WaitForVectorIndexAsync();
        var reader = app.CreateClient();
        for (var i = 0; i < 5; i++)
            Assert.Equal("live", (await reader.SimilarAsync($"s-{i}", "?k=3&imageWeight=1&textWeight=1")).Source);

        // Opening more connections at once than the sequential requests ever needed hands out every idle one.
        var reads = app.Services.GetRequiredKeyedService<NpgsqlDataSource>(DatabaseExtensions.ReadsKey);
        var connections = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => reads.OpenConnectionAsync().AsTask()));
        var settings = new List<(string? EfSearch, string? IterativeScan)>();
        foreach (var connection in connections)
        {
            // NULL where pgvector was never loaded in the session; its defaults where a search ran on it.
            await using var command = new NpgsqlCommand(
                "SELECT current_setting('hnsw.ef_search', true), current_setting('hnsw.iterative_scan', true)", connection);
            await using var row = await command.ExecuteReaderAsync();
            await row.ReadAsync();
            settings.Add((row.IsDBNull(0) ? null : row.GetString(0), row.IsDBNull(1) ? null : row.GetString(1)));
        }
        foreach (var connection in connections)
            await connection.DisposeAsync();

        Assert.Contains(settings, s => s.EfSearch is not null); // at least one connection served a search
        Assert.All(settings, s => Assert.True(s.EfSearch is null or "40" && s.IterativeScan is null or "off", $"left behind: {s}"));
    }
}
