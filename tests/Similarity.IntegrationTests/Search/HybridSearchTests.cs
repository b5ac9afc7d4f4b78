using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Search;

/// <summary>
/// Hybrid search: the vector and lexical lists fused by reciprocal rank (k = 60), held to a fusion computed here from
/// the vector list and a ts_rank ordering read straight from the table; the mode parameter on /search and /similar;
/// filters and rules as on every page; and today's answers without the new fields.
/// </summary>
public sealed class HybridSearchTests(LexicalCatalog catalog) : IClassFixture<LexicalCatalog>
{
    /// <summary>The lexical list as PostgreSQL ranks it, read here without the service.</summary>
    async Task<List<string>> TsRankOrderAsync(string tsquery)
    {
        await using var connection = new NpgsqlConnection(catalog.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT sku FROM items, to_tsquery('simple', @query) q WHERE lexical @@ q ORDER BY ts_rank(lexical, q) DESC, sku
            """, connection);
        command.Parameters.AddWithValue("query", tsquery);
        var skus = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            skus.Add(reader.GetString(0));
        return skus;
    }

    [Fact]
    public async Task Hybrid_ranks_by_reciprocal_rank_fusion_of_the_two_lists()
    {
        var vector = (await catalog.SearchAsync("q=red%20apple&mode=vector&k=50")).Results.Select(r => r.Sku).ToList();
        var lexical = await TsRankOrderAsync("red | apple:*");
        Assert.Equal(["apple-1", "apple-2", "pie-1"], lexical.Order()); // both words in apple-1; "red" nowhere else

        var expected = vector.Union(lexical)
            .Select(sku => (sku, Score: Part(vector, sku) + Part(lexical, sku)))
            .OrderByDescending(s => s.Score).ThenBy(s => s.sku, StringComparer.Ordinal).Take(10).ToList();
        var answer = await catalog.SearchAsync("q=red%20apple&k=10");

        Assert.Equal(("hybrid", "hybrid"), (answer.RankedBy, answer.Source));
        Assert.Equal(expected.Select(e => e.sku), answer.Results.Select(r => r.Sku));
        Assert.Equal(expected.Select(e => Math.Round(e.Score, 10)), answer.Results.Select(r => Math.Round(r.HybridScore!.Value, 10)));
        var first = answer.Results.Single(r => r.Sku == "apple-1");
        Assert.Equal((lexical.IndexOf("apple-1") + 1, vector.IndexOf("apple-1") + 1), (first.LexicalRank, first.VectorRank));
        Assert.Equal(["apple", "red"], first.Matched);
        Assert.Equal(first.Score, first.VectorScore);

        static double Part(List<string> list, string sku) => list.IndexOf(sku) is var i and >= 0 ? 0.5 / (60 + i + 1) : 0;
    }

    [Fact]
    public async Task Lexical_weight_zero_is_the_vector_order_and_one_puts_the_words_first()
    {
        var vector = (await catalog.SearchAsync("q=guitar&mode=vector&k=10")).Results.Select(r => r.Sku);
        Assert.Equal(vector, (await catalog.SearchAsync("q=guitar&lexicalWeight=0&k=10")).Results.Select(r => r.Sku));
        var wordsFirst = await catalog.SearchAsync("q=guitar&lexicalWeight=1&k=10");
        Assert.Equal(await TsRankOrderAsync("guitar:*"), wordsFirst.Results.Take(2).Select(r => r.Sku));
    }

    [Fact]
    public async Task Filters_apply_to_both_lists()
    {
        var available = await catalog.SearchAsync("q=apple&available=true&k=20");
        Assert.DoesNotContain(available.Results, r => r.Sku == "pie-1");
        Assert.Contains(available.Results, r => r.Sku == "apple-1");
        var fruit = await catalog.SearchAsync("q=flag&category=fruit&k=20");
        Assert.All(fruit.Results, r => Assert.Equal("fruit", r.Category));
        Assert.All(fruit.Results, r => Assert.Null(r.LexicalRank)); // no fruit says flag
    }

    [Fact]
    public async Task Today_s_answers_carry_none_of_the_new_fields()
    {
        var similar = await catalog.CreateClient().GetStringAsync("/similar/apple-1");
        var vectorSearch = await catalog.CreateClient().GetStringAsync("/search?q=apple&mode=vector");
        foreach (var body in new[] { similar, vectorSearch })
        {
            var root = JsonElement.Parse(body);
            Assert.False(root.TryGetProperty("corrections", out _));
            Assert.Equal("fused", root.GetProperty("rankedBy").GetString());
            foreach (var field in new[] { "hybridScore", "vectorScore", "lexicalScore", "lexicalRank", "matched" })
                Assert.All(root.GetProperty("results").EnumerateArray(), r => Assert.False(r.TryGetProperty(field, out _), field));
        }
    }

    [Fact]
    public async Task Post_search_is_hybrid_for_its_text_unless_told_otherwise()
    {
        var client = catalog.CreateClient();
        var hybrid = await (await client.PostAsync("/search", new MultipartFormDataContent { { new StringContent("aple"), "text" } }))
            .Content.ReadFromJsonAsync<SimilarApi.SimilarResponse>();
        Assert.Equal("hybrid", hybrid!.RankedBy);
        Assert.Equal("apple", Assert.Single(hybrid.Corrections!).Correction);
        Assert.Contains(hybrid.Results.Take(3), r => r.Sku == "apple-1");

        var vector = await (await client.PostAsync("/search?mode=vector", new MultipartFormDataContent { { new StringContent("aple"), "text" } }))
            .Content.ReadFromJsonAsync<SimilarApi.SimilarResponse>();
        Assert.Equal("fused", vector!.RankedBy);
        Assert.Null(vector.Corrections);
    }

    [Fact]
    public async Task Similar_in_lexical_mode_searches_by_the_item_s_own_terms_under_its_rules()
    {
        var admin = catalog.CreateAdminClient();
        var blocked = await admin.PutAsJsonAsync("/rules/guitar-1/stop-1", new { kind = "block" });
        Assert.True(blocked.IsSuccessStatusCode, await blocked.Content.ReadAsStringAsync());

        var answer = await catalog.CreateClient().SimilarAsync("stop-1", "?mode=lexical&k=10");
        Assert.Equal(("lexical", "lexical"), (answer.RankedBy, answer.Source));
        Assert.Equal("sign-2", answer.Results[0].Sku); // "sign" in its title, "signs" its category
        Assert.DoesNotContain(answer.Results, r => r.Sku == "stop-1");
        Assert.All(answer.Results, r => Assert.NotEmpty(r.Matched!));

        var guitar = await catalog.CreateClient().SimilarAsync("guitar-1", "?mode=hybrid&k=50"); // every item is a candidate
        Assert.Equal("guitar-2", guitar.Results[0].Sku);
        Assert.DoesNotContain(guitar.Results, r => r.Sku == "stop-1");
    }

    [Fact]
    public async Task A_word_more_than_half_the_catalog_holds_chooses_no_lexical_candidates_yet_still_scores()
    {
        // 30 of the catalog's 41 items are "Various cliparts number N" (brand and category "misc").
        var common = await catalog.SearchAsync("q=cliparts&k=41"); // every item: the vector list holds them all
        Assert.All(common.Results, r => Assert.Null(r.LexicalRank));
        Assert.Equal(30, common.Results.Count(r => r.Matched is ["cliparts"] && r.LexicalScore > 0));

        // "clipa" as typed so far: a prefix of "cliparts".
        Assert.All((await catalog.SearchAsync("q=clipa&k=41")).Results, r => Assert.Null(r.LexicalRank));

        var withRare = await catalog.SearchAsync("q=cliparts%20number%207&k=41");
        Assert.Equal(["filler-07"], withRare.Results.Where(r => r.LexicalRank is not null).Select(r => r.Sku));

        var page = await catalog.CreateClient().SimilarAsync("filler-03", "?mode=hybrid&k=40"); // its only rare word, "3", no other item holds
        Assert.All(page.Results, r => Assert.Null(r.LexicalRank));

        // By words alone, every word chooses.
        Assert.Equal(30, (await catalog.SearchAsync("q=cliparts&k=50&mode=lexical")).Results.Count);
        Assert.Equal(29, (await catalog.CreateClient().SimilarAsync("filler-03", "?mode=lexical&k=50")).Results.Count);
    }

    /// <summary>An item's words as the simple configuration reads them: accents folded, lower case, runs of letters and digits.</summary>
    static List<string> Words(TestItem item)
    {
        var attributes = item.Attributes is null ? "" : string.Join(' ', JsonDocument.Parse(item.Attributes).RootElement.EnumerateObject().Select(p => p.Value.GetString()));
        var text = string.Join(' ', item.Title, item.Brand, item.Category?.Replace('/', ' ').Replace('_', ' '), item.Description, attributes)
            .Normalize(System.Text.NormalizationForm.FormD);
        var folded = new string([.. text.Where(c => System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.NonSpacingMark)]);
        return [.. System.Text.RegularExpressions.Regex.Matches(folded.ToLowerInvariant(), "[a-z0-9]+").Select(m => m.Value)];
    }

    [Fact]
    public async Task Similar_in_lexical_mode_ranks_by_the_tf_idf_cosine_of_the_whole_texts()
    {
        // TF-IDF over the catalog's texts computed here: smoothed idf, raw counts, cosine.
        var items = LexicalCatalog.Items.Concat(Enumerable.Range(0, 30).Select(i => new TestItem($"filler-{i:D2}", $"Various cliparts number {i}", "misc", "misc"))).ToList();
        var words = items.ToDictionary(i => i.Sku, Words);
        var df = words.Values.SelectMany(w => w.Distinct()).CountBy(w => w).ToDictionary();
        Dictionary<string, double> Vector(string sku) => words[sku].CountBy(w => w)
            .ToDictionary(g => g.Key, g => g.Value * (Math.Log((1.0 + items.Count) / (1 + df[g.Key])) + 1));
        static double Norm(Dictionary<string, double> v) => Math.Sqrt(v.Values.Sum(x => x * x));
        var query = Vector("apple-2");
        var expected = items.Where(i => i.Sku != "apple-2")
            .Select(i => (i.Sku, Cosine: Vector(i.Sku) is var v ? v.Where(p => query.ContainsKey(p.Key)).Sum(p => p.Value * query[p.Key]) / (Norm(v) * Norm(query)) : 0))
            .Where(e => e.Cosine > 0).OrderByDescending(e => e.Cosine).ThenBy(e => e.Sku, StringComparer.Ordinal).ToList();
        Assert.True(expected.Count >= 5, "apple-2 shares words with at least five items (\"a\", \"of\", \"basket\", \"fruit\"…)");

        var answer = await catalog.CreateClient().SimilarAsync("apple-2", "?mode=lexical&k=50");

        Assert.Equal(expected.Select(e => e.Sku), answer.Results.Select(r => r.Sku));
        Assert.Equal(expected.Select(e => Math.Round(e.Cosine, 9)), answer.Results.Select(r => Math.Round(r.LexicalScore!.Value, 9)));
    }
}
