using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Similarity.Encoders;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>/search under hostile filters, and /similar over items a previous model set embedded.</summary>
public sealed class SimilarFaultTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    /// <summary>The filters /similar refuses (SimilarRankingTests), on /search, where the encoders run first.</summary>
    public static TheoryData<string, string> BadFilters => new()
    {
        { "?category=%00", "category" },
        { "?brand=ab%00cd", "brand" },
        { "?category=" + new string('c', 201), "category" },
        { "?exclude=abc%0Adef", "exclude" },
    };

    [Theory]
    [MemberData(nameof(BadFilters))]
    public async Task A_filter_the_database_cannot_compare_is_a_400_on_search_before_any_encoder_runs(string query, string field)
    {
        var pipeline = app.Services.GetRequiredService<Similarity.Models.ModelSets>().Live.Pipeline;
        var runs = 0;
        void Count(ModelRun run) => Interlocked.Add(ref runs, run.Size);
        pipeline.Text.ModelRan += Count;
        HttpResponseMessage response;
        try
        {
            response = await app.CreateClient().PostAsync($"/search{query}", EmbedClient.Form(text: "red shirt"));
        }
        finally
        {
            pipeline.Text.ModelRan -= Count;
        }

        await CatalogClient.AssertNamesFieldAsync(response, field);
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task Similar_on_an_item_another_model_set_embedded_is_a_409_and_such_items_are_never_candidates()
    {
        var admin = app.CreateAdminClient();
        foreach (var (sku, title) in new[] { ("ms-live-1", "red wool scarf"), ("ms-live-2", "red wool scarf long"), ("ms-old", "red wool scarf"), ("ms-small", "red wool scarf") })
            await admin.PutItemAsync(new TestItem(sku, title, "scarves"));
        await app.WaitForVectorIndexAsync(); // the approximate path, through the index
        // As if two earlier model sets had written them: one of the same dimension, one of another.
        await app.Database.ExecuteAsync("UPDATE items SET fingerprint = 'an-older-model-set' WHERE sku = 'ms-old'");
        await app.Database.ExecuteAsync("""
            UPDATE items SET fingerprint = 'a-smaller-model-set', embedding = '[1,0,0]', image_embedding = NULL, text_embedding = '[0,1,0]'
            WHERE sku = 'ms-small'
            """);
        var client = app.CreateClient();

        foreach (var stale in new[] { "ms-old", "ms-small" })
        {
            var response = await client.GetAsync($"/similar/{stale}");
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("re-embed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/similar/{stale}");
            conditional.Headers.TryAddWithoutValidation("If-None-Match", "*");
            Assert.Equal(HttpStatusCode.Conflict, (await client.SendAsync(conditional)).StatusCode);
        }

        var live = await client.SimilarAsync("ms-live-1", "?k=100");
        Assert.Contains(live.Results, r => r.Sku == "ms-live-2");
        Assert.DoesNotContain(live.Results, r => r.Sku is "ms-old" or "ms-small");
        var searched = (await (await client.PostAsync("/search?k=100", EmbedClient.Form(text: "red wool scarf"))).Content.ReadFromJsonAsync<SimilarApi.SimilarResponse>())!;
        Assert.DoesNotContain(searched.Results, r => r.Sku is "ms-old" or "ms-small");

        // Sent again, the item is embedded by the live models and compares again.
        Assert.True((await admin.PutItemAsync(new TestItem("ms-old", "red wool scarf", "scarves"))).Embedded);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/similar/ms-old")).StatusCode);
    }
}
