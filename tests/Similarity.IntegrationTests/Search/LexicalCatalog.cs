using System.Net.Http.Json;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Search;

/// <summary>
/// A small catalog whose words the lexical tests know: apples, flags, a café mug, guitars, and filler items that
/// share none of those words. No neighbour lists, so every vector list is the index search's.
/// </summary>
public class LexicalCatalog : SimilarityApp
{
    public static readonly TestItem[] Items =
    [
        new("apple-1", "Red apple", "fruit", "orchard", 2m),
        new("apple-2", "Green apples in a basket", "fruit", "orchard", 5m, Description: "A basket of crisp apples"),
        new("pie-1", "Apple pie", "bakery", "granny", 9m, Available: false),
        new("flag-1", "Flag of France", "banners", "vexil", 12m),
        new("flags-2", "Flags of the world", "flags", "vexil", 30m),
        new("cafe-1", "Café crème mug", "mugs", "paris", 8m, Description: "A mug for the café au lait"),
        new("guitar-1", "Acoustic guitar", "music", "fender", 300m, Attributes: """{"strings": "nylon"}"""),
        new("guitar-2", "Electric guitar with amplifier", "music", "gibson", 900m),
        new("stop-1", "Stop sign", "signs", "roads", 40m),
        new("sign-2", "Sign of the zodiac", "signs", "stars", 15m),
        new("picnic-1", "Wicker picnic set", "garden", "outdoors", 45m, Description: "Plates and cups in a basket"),
    ];

    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Search:ListSize", "0"), .. Fusion, .. ExtraSettings];

    /// <summary>
    /// Reciprocal rank fusion with equal weights on every route, which the fusion tests compute by hand; the demo's
    /// catalog keeps the service's defaults instead.
    /// </summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> Fusion =>
    [
        new("Similarity:Search:TextFusion", "rrf"), new("Similarity:Search:LexicalWeight", "0.5"),
        new("Similarity:Search:ItemFusion", "rrf"), new("Similarity:Search:ItemLexicalWeight", "0.5"),
    ];

    protected virtual IEnumerable<KeyValuePair<string, string>> ExtraSettings => [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SeedAsync();
    }

    /// <summary>Puts the catalog's items.</summary>
    protected virtual async Task SeedAsync()
    {
        var client = CreateAdminClient();
        foreach (var item in Items)
            await client.PutItemAsync(item);
        for (var i = 0; i < 30; i++)
            await client.PutItemAsync(new TestItem($"filler-{i:D2}", $"Various cliparts number {i}", "misc", "misc", 1m, Image: TestImages.Noise(32, 32, seed: i)));
    }

    /// <summary>A GET /search answer, or the test fails with the body.</summary>
    public async Task<SimilarApi.SimilarResponse> SearchAsync(string query)
    {
        var response = await CreateClient().GetAsync("/search?" + query);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET /search?{query} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<SimilarApi.SimilarResponse>())!;
    }

    /// <summary>The same catalog indexed in PostgreSQL's english configuration (stemmed).</summary>
    public sealed class English : LexicalCatalog
    {
        protected override IEnumerable<KeyValuePair<string, string>> ExtraSettings => [new("Similarity:Search:TextSearchConfig", "english")];
    }
}
