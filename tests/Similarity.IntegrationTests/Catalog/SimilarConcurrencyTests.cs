using System.Net;
using System.Net.Http.Json;
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
}
