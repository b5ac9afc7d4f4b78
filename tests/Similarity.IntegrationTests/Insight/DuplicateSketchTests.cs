using System.Net.Http.Json;
using NetVips;
using Similarity.Insight;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Insight;

/// <summary>
/// The picture-sketch condition of <c>/duplicates</c> by fused vectors: a re-encoded or cropped copy under a new SKU
/// matches its original's sketch and is grouped; an icon-set sibling — the same words, the mirror image of the picture,
/// which the image vectors find as close as a copy — is not. Each test puts its own SKUs (prefix <c>sketch-</c>).
/// </summary>
public sealed class DuplicateSketchTests(InsightCatalog catalog) : IClassFixture<InsightCatalog>
{
    static readonly InsightOptions Defaults = new();

    [Fact]
    public async Task A_reencoded_copy_matches_its_originals_sketch_and_is_grouped_with_it()
    {
        var client = catalog.CreateAdminClient();
        var original = catalog.Original("tools-2");
        await client.PutItemAsync(original with { Sku = "sketch-copy-tools-2", Image = Reencoded(original.Image!), Price = original.Price + 3 });
        await NeighbourLists.AppliedAsync(catalog.Database);

        var page = (await client.GetFromJsonAsync<InsightApi.DuplicatesResponse>("/duplicates?limit=100"))!;

        Assert.Contains(page.Groups, g => g.Members.Select(m => m.Sku).Order(StringComparer.Ordinal).SequenceEqual(["sketch-copy-tools-2", "tools-2"]));
        Assert.InRange(Correlation(await SketchOfAsync("tools-2"), await SketchOfAsync("sketch-copy-tools-2")), Defaults.DuplicateMinPictureMatch, 1.000001);
    }

    [Fact]
    public async Task A_sibling_with_the_same_words_and_a_mirrored_picture_is_not_grouped()
    {
        var client = catalog.CreateAdminClient();
        var original = catalog.Original("buildings-1");
        await client.PutItemAsync(original with { Sku = "sketch-mirror-buildings-1", Image = Mirrored(original.Image!) });
        await NeighbourLists.AppliedAsync(catalog.Database);

        var page = (await client.GetFromJsonAsync<InsightApi.DuplicatesResponse>("/duplicates?limit=100"))!;

        Assert.DoesNotContain(page.Groups, g => g.Members.Any(m => m.Sku == "sketch-mirror-buildings-1"));
        // Without the sketches the pair would pass: the same words, and image vectors over the image condition.
        var vectors = (await BruteForce.ReadAllAsync(catalog.Database)).ToDictionary(v => v.Sku);
        var (a, b) = (vectors["buildings-1"], vectors["sketch-mirror-buildings-1"]);
        Assert.InRange(BruteForce.Cosine(a.Fused, b.Fused), Defaults.DuplicateMinScore, 1.000001);
        Assert.InRange(BruteForce.Cosine(a.Image!, b.Image!), Defaults.DuplicateMinImageScore, 1.000001);
    }

    [Fact]
    public async Task A_new_picture_is_sketched_again_before_the_groups_are_read()
    {
        var client = catalog.CreateAdminClient();
        var original = catalog.Original("plants-5");
        await client.PutItemAsync(original with { Sku = "sketch-again-plants-5", Image = Reencoded(original.Image!) });
        await NeighbourLists.AppliedAsync(catalog.Database);
        await client.GetFromJsonAsync<InsightApi.DuplicatesResponse>("/duplicates?limit=100");
        var before = await SketchOfAsync("sketch-again-plants-5");

        await client.PutItemAsync(original with { Sku = "sketch-again-plants-5", Image = Mirrored(original.Image!) });
        await NeighbourLists.AppliedAsync(catalog.Database);
        var page = (await client.GetFromJsonAsync<InsightApi.DuplicatesResponse>("/duplicates?limit=100"))!;

        Assert.NotEqual(before, await SketchOfAsync("sketch-again-plants-5"));
        Assert.DoesNotContain(page.Groups, g => g.Members.Any(m => m.Sku == "sketch-again-plants-5"));
    }

    async Task<byte[]> SketchOfAsync(string sku) =>
        (byte[])(await catalog.Database.ExecuteAsync(
            "SELECT s.grey FROM picture_sketches s JOIN items i ON i.sku = s.sku AND i.image_sha256 = s.image_sha256 WHERE s.sku = $1", sku))!;

    /// <summary>The plain correlation of two whole sketches (no window search): a lower bound of the service's match, computed here.</summary>
    static double Correlation(byte[] a, byte[] b)
    {
        var (meanA, meanB) = (a.Average(x => (double)x), b.Average(x => (double)x));
        double ab = 0, aa = 0, bb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            ab += (a[i] - meanA) * (b[i] - meanB);
            aa += (a[i] - meanA) * (a[i] - meanA);
            bb += (b[i] - meanB) * (b[i] - meanB);
        }
        return ab / Math.Sqrt(aa * bb);
    }

    /// <summary>The picture flattened on white, at 90% of its size, saved as a JPEG of quality 60.</summary>
    static byte[] Reencoded(byte[] png)
    {
        using var image = Image.NewFromBuffer(png);
        using var flat = image.HasAlpha() ? image.Flatten(background: [255, 255, 255]) : image.Copy();
        using var smaller = flat.Resize(0.9);
        return smaller.JpegsaveBuffer(q: 60);
    }

    /// <summary>The picture flipped left to right: what an icon set's left and right arrows are to each other.</summary>
    static byte[] Mirrored(byte[] png)
    {
        using var image = Image.NewFromBuffer(png);
        using var flipped = image.FlipHor();
        return flipped.PngsaveBuffer();
    }
}
