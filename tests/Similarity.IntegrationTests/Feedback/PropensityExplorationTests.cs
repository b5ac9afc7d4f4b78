using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>
/// Twelve text-only items, with every answer to an identified visitor explored (ExploreShare 1). Answered by the index
/// alone (no neighbour lists, the index valid before the tests): every answer comes the same way, so one differs from
/// another only by the exploration.
/// </summary>
public sealed class ExploringCatalog : SimilarityApp
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Similarity:Feedback:ExploreShare", "1"), new("Similarity:Search:ListSize", "0")];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        string[] words = ["red", "blue", "oak", "wool", "tall", "round"];
        var client = CreateAdminClient();
        for (var i = 0; i < 12; i++)
            await client.PutItemAsync(new TestItem($"ex-{i:D2}", $"{words[i % 6]} {words[(i + 2) % 6]} {(i < 6 ? "lamp" : "chair")}"));
        await WaitForVectorIndexAsync();
    }
}

/// <summary>Exploration for the propensities: an identified visitor's answer has two adjacent results swapped, and is not cached.</summary>
public sealed class PropensityExplorationTests(ExploringCatalog catalog) : IClassFixture<ExploringCatalog>
{
    static string[] Skus(string answer) =>
        [.. JsonElement.Parse(answer).GetProperty("results").EnumerateArray().Select(r => r.GetProperty("sku").GetString()!)];

    [Fact]
    public async Task An_identified_visitors_answer_swaps_one_adjacent_pair_within_the_first_ten()
    {
        var ranked = Skus(await catalog.CreateClient().GetStringAsync("/similar/ex-00?blend=0"));
        Assert.Equal(10, ranked.Length);

        for (var i = 0; i < 5; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/similar/ex-00?blend=0");
            request.Headers.Add("X-Visitor-Id", $"explorer-{i}");
            var response = await catalog.CreateClient().SendAsync(request);
            var explored = Skus(await response.Content.ReadAsStringAsync());

            var moved = Enumerable.Range(0, 10).Where(p => explored[p] != ranked[p]).ToArray();
            Assert.Equal(2, moved.Length);
            Assert.Equal(moved[0] + 1, moved[1]);
            Assert.Equal((ranked[moved[0]], ranked[moved[1]]), (explored[moved[1]], explored[moved[0]]));
            Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
        }
    }
}
