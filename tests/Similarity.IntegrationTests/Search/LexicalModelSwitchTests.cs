using System.Net.Http.Json;
using static Similarity.IntegrationTests.Operations.ModelSetTesting;

namespace Similarity.IntegrationTests.Search;

/// <summary>A model switch rewrites every item's vectors and none of its words: the lexical index and the vocabulary stay whole.</summary>
public sealed class LexicalModelSwitchTests
{
    [Fact]
    public async Task After_a_model_switch_the_words_still_find_their_items_and_the_typos_their_words()
    {
        await using var app = await StartWithCatalogAsync();
        var admin = app.CreateAdminClient();
        async Task<Similarity.Similar.SimilarApi.SimilarResponse> SearchAsync(string query) =>
            (await app.CreateClient().GetFromJsonAsync<Similarity.Similar.SimilarApi.SimilarResponse>("/search?" + query))!;
        var before = await SearchAsync("q=leather&mode=lexical&k=50");

        await DeployAndEmbedAsync(admin);
        await ActivateAsync(app, admin, Candidate);

        Assert.Equal(Candidate, await LiveNameAsync(admin));
        var after = await SearchAsync("q=leather&mode=lexical&k=50");
        Assert.Equal(Items / 2, after.Results.Count); // every odd item says leather
        Assert.Equal(before.Results.Select(r => r.Sku).Order(), after.Results.Select(r => r.Sku).Order());
        var typo = await SearchAsync("q=lether&mode=hybrid&k=5");
        Assert.Equal("leather", Assert.Single(typo.Corrections!).Correction);
        Assert.All(typo.Results, r => Assert.Contains("leather", r.Title, StringComparison.Ordinal));
    }
}
