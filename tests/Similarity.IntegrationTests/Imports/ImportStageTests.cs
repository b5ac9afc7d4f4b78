using NetVips;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Imports;

/// <summary>An import tells where its time goes (a stage histogram at /metrics), and its pictures' stored copies, made ahead of the models, are kept.</summary>
public sealed class ImportStageTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task An_import_times_each_stage_and_keeps_both_stored_copies_of_its_pictures()
    {
        var admin = app.CreateAdminClient();
        var csv = """
            sku,title,image
            stage-1,Wide red drawing,img/wide.jpg
            stage-2,Tall blue drawing,img/tall.png
            stage-3,A title alone,
            """;
        var zip = ImportClient.Zip(("img/wide.jpg", TestImages.Noise(900, 600, 3, ".jpg")), ("img/tall.png", TestImages.Noise(300, 700, 4)));

        var done = await admin.WaitForEndAsync((await admin.StartAsync(ImportClient.Form(csv, "catalog.csv", zip))).Id);

        Assert.Equal("succeeded", done.Status);
        var metrics = await admin.GetStringAsync("/metrics");
        foreach (var stage in new[] { "screen", "source", "decode", "pictures", "starved", "encoder_wait", "embed", "write", "checks" })
            Assert.Matches($$"""similarity_import_stage_duration_seconds_count\{[^}]*stage="{{stage}}"[^}]*\} [1-9]""", metrics);
        // Both copies, upright and never enlarged: the longest side of the full copy 640, of the thumbnail 256.
        foreach (var sku in new[] { "stage-1", "stage-2" })
        {
            var full = await SizeAsync(admin, $"/items/{sku}/image");
            var thumb = await SizeAsync(admin, $"/items/{sku}/image?size=thumb");
            Assert.Equal(640, Math.Max(full.Width, full.Height));
            Assert.Equal(256, Math.Max(thumb.Width, thumb.Height));
            Assert.Equal(full.Width > full.Height, thumb.Width > thumb.Height);
        }
        Assert.True((await SizeAsync(admin, "/items/stage-2/image")).Height > 600, "the tall picture stays tall");
    }

    static async Task<(int Width, int Height)> SizeAsync(HttpClient client, string path)
    {
        var bytes = await client.GetByteArrayAsync(path);
        using var image = Image.NewFromBuffer(bytes);
        return (image.Width, image.Height);
    }
}
