using System.Net;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Search;

/// <summary>The lexical index through GET /search: accents, typo correction by the word-length rule, stemming by configuration.</summary>
public sealed class LexicalSearchTests(LexicalCatalog catalog) : IClassFixture<LexicalCatalog>
{
    static string[] Skus(Similarity.Similar.SimilarApi.SimilarResponse answer) => [.. answer.Results.Select(r => r.Sku)];

    [Theory]
    [InlineData("cafe")]
    [InlineData("café")]
    [InlineData("CAFÉ")]
    public async Task Accents_and_case_are_ignored_on_both_sides(string word)
    {
        var answer = await catalog.SearchAsync($"q={Uri.EscapeDataString(word)}&mode=lexical");
        Assert.Equal(["cafe-1"], Skus(answer));
        Assert.Equal(["cafe"], answer.Results[0].Matched);
        Assert.Empty(answer.Corrections!);
    }

    [Fact]
    public async Task A_misspelled_word_is_corrected_to_the_catalog_word_and_the_answer_names_it()
    {
        var answer = await catalog.SearchAsync("q=aple&mode=lexical");
        var correction = Assert.Single(answer.Corrections!);
        Assert.Equal(("aple", "apple"), (correction.Word, correction.Correction));
        Assert.Equal(["apple-1", "apple-2", "pie-1"], Skus(answer).Order()); // apple-2 says "apples": a prefix match
        Assert.All(answer.Results, r => Assert.Equal(["apple"], r.Matched));
    }

    [Theory]
    [InlineData("gitar", "guitar")]      // 5 letters: one edit
    [InlineData("guitarrr", "guitar")]   // 8 letters: two edits
    [InlineData("acoustik", "acoustic")] // a substitution
    public async Task Words_are_corrected_within_their_edit_bound(string typed, string word)
    {
        var answer = await catalog.SearchAsync($"q={typed}&mode=lexical");
        Assert.Equal(word, Assert.Single(answer.Corrections!).Correction);
        Assert.NotEmpty(answer.Results);
    }

    [Theory]
    [InlineData("fla")]    // 3 letters: no typo allowed
    [InlineData("gutiar")] // 6 letters, two edits from guitar: one allowed
    [InlineData("zzzzzz")]
    public async Task Words_beyond_their_edit_bound_are_not_corrected(string typed)
    {
        var answer = await catalog.SearchAsync($"q={typed}&mode=lexical");
        Assert.Empty(answer.Corrections!);
        Assert.Empty(answer.Results);
    }

    [Fact]
    public async Task The_simple_configuration_matches_prefixes_but_does_not_stem()
    {
        Assert.Equal(["flag-1", "flags-2"], Skus(await catalog.SearchAsync("q=flag&mode=lexical")).Order());
        Assert.Equal(["flags-2"], Skus(await catalog.SearchAsync("q=flags&mode=lexical")));
        // "guita" begins a catalog word: it is searched as typed, not corrected.
        var prefix = await catalog.SearchAsync("q=guita&mode=lexical");
        Assert.Empty(prefix.Corrections!);
        Assert.Equal(["guitar-1", "guitar-2"], Skus(prefix).Order());
    }

    [Fact]
    public async Task The_title_outranks_the_description()
    {
        // apple-2 has a basket in its title, picnic-1 in its description.
        var answer = await catalog.SearchAsync("q=basket&mode=lexical");
        Assert.Equal(["apple-2", "picnic-1"], answer.Results.Select(r => r.Sku));
        Assert.True(answer.Results[0].LexicalScore > answer.Results[1].LexicalScore);
        Assert.Equal([1, 2], answer.Results.Select(r => r.LexicalRank!.Value));
    }

    [Fact]
    public async Task Get_search_answers_304_to_its_own_etag_until_the_catalog_changes()
    {
        var client = catalog.CreateClient();
        var first = await client.GetAsync("/search?q=guitar");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag!;
        Assert.Contains("public", first.Headers.CacheControl!.ToString());
        using var again = new HttpRequestMessage(HttpMethod.Get, "/search?q=guitar");
        again.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);

        using var other = new HttpRequestMessage(HttpMethod.Get, "/search?q=guitar&mode=lexical");
        other.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(other)).StatusCode);
    }

    [Theory]
    [InlineData("mode=lexical", "q")]
    [InlineData("q=%20", "q")]
    [InlineData("q=guitar&mode=words", "mode")]
    [InlineData("q=guitar&lexicalWeight=1.5", "lexicalWeight")]
    [InlineData("q=guitar&fallback=category", "fallback")]
    [InlineData("q=guitar&k=0", "k")]
    public async Task A_bad_search_is_a_400_naming_the_field(string query, string field)
    {
        await CatalogClient.AssertNamesFieldAsync(await catalog.CreateClient().GetAsync("/search?" + query), field);
    }
}

/// <summary>The english configuration: stemmed, so "flag" finds "flags" and the reverse.</summary>
public sealed class LexicalEnglishTests(LexicalCatalog.English catalog) : IClassFixture<LexicalCatalog.English>
{
    [Theory]
    [InlineData("flag")]
    [InlineData("flags")]
    public async Task Stemming_finds_both_forms(string word)
    {
        var answer = await catalog.SearchAsync($"q={word}&mode=lexical");
        Assert.Equal(["flag-1", "flags-2"], answer.Results.Select(r => r.Sku).Order());
        Assert.All(answer.Results, r => Assert.Equal([word], r.Matched));
    }
}
