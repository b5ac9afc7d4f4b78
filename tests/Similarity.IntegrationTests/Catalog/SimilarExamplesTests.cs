using System.Net;
using System.Net.Http.Json;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>POST /similar with positive and negative examples, against both strategies computed here by brute force.</summary>
public sealed class SimilarExamplesTests(SeededCatalog catalog) : IClassFixture<SeededCatalog>
{
    const double Tolerance = 1e-4;
    // Three shoes (i % 10 == 1); the results are drawn from the shoes, all 40 of which the index's candidates cover.
    static readonly string A = SeededCatalog.SkuOf(21), B = SeededCatalog.SkuOf(51), C = SeededCatalog.SkuOf(91);

    async Task<(Dictionary<string, StoredVectors> Examples, List<StoredVectors> Shoes)> Reference()
    {
        var all = await BruteForce.ReadAllAsync(catalog.Database);
        var examples = all.Where(i => i.Sku == A || i.Sku == B || i.Sku == C).ToDictionary(i => i.Sku);
        return (examples, all.Where(i => i.Category == "shoes" && !examples.ContainsKey(i.Sku)).ToList());
    }

    async Task<SimilarApi.SimilarExamplesResponse> PostAsync(object body, string query = "?category=shoes")
    {
        var response = await catalog.CreateClient().PostAsJsonAsync("/similar" + query, body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<SimilarApi.SimilarExamplesResponse>())!;
    }

    static void AssertRanking(List<(string Sku, double Score)> expected, SimilarApi.SimilarExamplesResponse answer)
    {
        Assert.Equal(expected.Count, answer.Results.Count);
        for (var i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i].Score - answer.Results[i].Score) < Tolerance,
                $"position {i}: expected {expected[i].Sku} ({expected[i].Score:F6}), got {answer.Results[i].Sku} ({answer.Results[i].Score:F6})");
    }

    [Fact]
    public async Task Average_ranks_by_cosine_to_the_weighted_sum_of_positives_minus_negatives()
    {
        var (examples, shoes) = await Reference();
        var dimension = examples[A].Fused.Length;
        var query = new double[dimension];
        for (var d = 0; d < dimension; d++)
            query[d] = 2 * examples[A].Fused[d] + examples[B].Fused[d] - examples[C].Fused[d];
        var expected = shoes.Select(s => (s.Sku, BruteForce.Cosine(query, s.Fused))).OrderByDescending(x => x.Item2).Take(10).ToList();

        var answer = await PostAsync(new { positive = new[] { A, B }, negative = new[] { C }, weights = new Dictionary<string, double> { [A] = 2 } });

        Assert.Equal("average", answer.Strategy);
        AssertRanking(expected, answer);
        Assert.DoesNotContain(answer.Results, r => r.Sku == A || r.Sku == B || r.Sku == C);
        var positivesOnly = await PostAsync(new { positive = new[] { A, B }, weights = new Dictionary<string, double> { [A] = 2 } });
        Assert.NotEqual(positivesOnly.Results.Select(r => r.Sku), answer.Results.Select(r => r.Sku)); // the negative changes the answer
    }

    [Fact]
    public async Task Best_score_ranks_by_the_best_positive_minus_the_best_negative()
    {
        var (examples, shoes) = await Reference();
        double Best(StoredVectors s) =>
            Math.Max(2 * BruteForce.Cosine(s.Fused, examples[A].Fused), BruteForce.Cosine(s.Fused, examples[B].Fused)) - BruteForce.Cosine(s.Fused, examples[C].Fused);
        var expected = shoes.Select(s => (s.Sku, Best(s))).OrderByDescending(x => x.Item2).Take(8).ToList();

        var answer = await PostAsync(new { positive = new[] { A, B }, negative = new[] { C }, weights = new Dictionary<string, double> { [A] = 2 }, strategy = "bestScore" },
            "?category=shoes&k=8");

        Assert.Equal("bestScore", answer.Strategy);
        AssertRanking(expected, answer);
        var average = await PostAsync(new { positive = new[] { A, B }, negative = new[] { C }, weights = new Dictionary<string, double> { [A] = 2 } }, "?category=shoes&k=8");
        Assert.NotEqual(average.Results.Select(r => r.Sku), answer.Results.Select(r => r.Sku));
    }

    [Fact]
    public async Task Examples_with_no_item_are_named_and_without_a_positive_item_it_is_a_404()
    {
        var answer = await PostAsync(new { positive = new[] { A, "no-such-item" } });
        Assert.Equal(["no-such-item"], answer.Missing);
        Assert.Equal(10, answer.Results.Count);

        var none = await catalog.CreateClient().PostAsJsonAsync("/similar", new { positive = new[] { "no-such-item" }, negative = new[] { A } });
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("""{"positive": []}""", "positive")]
    [InlineData("""{"negative": ["sku-0001"]}""", "positive")]
    [InlineData("""{"positive": ["sku-0001"], "negative": ["sku-0001"]}""", "negative")]
    [InlineData("""{"positive": ["bad sku"]}""", "positive[0]")]
    [InlineData("""{"positive": ["sku-0001"], "strategy": "median"}""", "strategy")]
    [InlineData("""{"positive": ["sku-0001"], "weights": {"sku-0002": 2}}""", "weights")]
    [InlineData("""{"positive": ["sku-0001"], "weights": {"sku-0001": 0}}""", "weights.sku-0001")]
    public async Task A_bad_request_is_a_400_naming_the_field(string body, string field)
    {
        var response = await catalog.CreateClient().PostAsync("/similar", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await CatalogClient.AssertNamesFieldAsync(response, field);
    }

    [Fact]
    public async Task Fallback_needs_an_items_page()
    {
        var response = await catalog.CreateClient().PostAsJsonAsync("/similar?fallback=category", new { positive = new[] { A } });
        await CatalogClient.AssertNamesFieldAsync(response, "fallback");
    }
}
