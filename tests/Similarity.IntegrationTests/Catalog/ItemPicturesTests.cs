using System.Net;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>Stored pictures: normalised on every upsert, served with validators, gone with their item.</summary>
public sealed class ItemPicturesTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task A_put_keeps_an_upright_640_px_copy_and_a_256_px_thumbnail_without_metadata()
    {
        var client = app.CreateAdminClient();
        // 1200 × 800 stored sideways: upright it is 800 wide and 1200 high.
        await client.PutItemAsync(new TestItem("pic-1", "Tall lamp", Image: TestImages.SidewaysJpegWithMetadata(1200, 800, seed: 5)));

        var full = await client.GetAsync("/items/pic-1/image");
        var thumb = await client.GetAsync("/items/pic-1/image?size=thumb");

        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal("image/jpeg", full.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", full.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(full.Headers.ETag!.IsWeak);
        Assert.NotNull(full.Headers.CacheControl?.MaxAge);
        using var fullImage = NetVips.Image.NewFromBuffer(await full.Content.ReadAsByteArrayAsync());
        Assert.Equal((427, 640), (fullImage.Width, fullImage.Height)); // 800 × 1200 scaled to a longest side of 640
        Assert.DoesNotContain("exif-data", fullImage.GetFields());
        using var thumbImage = NetVips.Image.NewFromBuffer(await thumb.Content.ReadAsByteArrayAsync());
        Assert.Equal((171, 256), (thumbImage.Width, thumbImage.Height));
        Assert.NotEqual(full.Headers.ETag, thumb.Headers.ETag);
    }

    [Fact]
    public async Task A_small_picture_is_not_enlarged_and_a_client_with_the_current_etag_gets_304()
    {
        var client = app.CreateAdminClient();
        await client.PutItemAsync(new TestItem("pic-small", "Small cup", Image: TestImages.Noise(120, 90, seed: 6)));
        var first = await client.GetAsync("/items/pic-small/image");
        using var image = NetVips.Image.NewFromBuffer(await first.Content.ReadAsByteArrayAsync());
        Assert.Equal((120, 90), (image.Width, image.Height));

        var again = new HttpRequestMessage(HttpMethod.Get, "/items/pic-small/image");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);

        // A new picture is a new ETag: the old one no longer validates.
        await client.PutItemAsync(new TestItem("pic-small", "Small cup", Image: TestImages.Noise(120, 90, seed: 7)));
        var changed = new HttpRequestMessage(HttpMethod.Get, "/items/pic-small/image");
        changed.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(changed)).StatusCode);
    }

    [Fact]
    public async Task Items_without_a_picture_answer_404_and_replacing_or_deleting_an_item_drops_its_pictures()
    {
        var client = app.CreateAdminClient();
        await client.PutItemAsync(new TestItem("pic-none", "Plain text item"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/items/pic-none/image")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/items/no-such-item/image")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/items/pic-none/image?size=huge")).StatusCode);

        await client.PutItemAsync(new TestItem("pic-2", "Blue vase", Image: TestImages.Noise(64, 64, seed: 8)));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/items/pic-2/image?size=thumb")).StatusCode);
        await client.PutItemAsync(new TestItem("pic-2", "Blue vase")); // the whole item, now without a picture
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/items/pic-2/image")).StatusCode);

        await client.PutItemAsync(new TestItem("pic-3", "Red vase", Image: TestImages.Noise(64, 64, seed: 9)));
        Assert.Equal(1, await PictureRowsAsync("pic-3"));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/items/pic-3")).StatusCode);
        Assert.Equal(0, await PictureRowsAsync("pic-3"));
    }

    [Fact]
    public async Task An_import_keeps_the_pictures_of_the_rows_it_stores_and_none_for_a_refused_row()
    {
        var admin = app.CreateAdminClient();
        var zip = ImportClient.Zip(("a.jpg", TestImages.Noise(900, 300, seed: 10, ".jpg")), ("b.png", TestImages.Noise(50, 50, seed: 11)));
        var job = await admin.WaitForEndAsync((await admin.StartAsync(ImportClient.Form(
            "sku,title,price,image\nimp-pic-1,Wide banner,1.00,a.jpg\nimp-pic-2,Bad price,abc,b.png\nimp-pic-3,No picture,2.00,\n", imagesZip: zip))).Id);
        Assert.Equal(2, job.Counts.Inserted);

        using var banner = NetVips.Image.NewFromBuffer(await admin.GetByteArrayAsync("/items/imp-pic-1/image"));
        Assert.Equal((640, 213), (banner.Width, banner.Height));
        Assert.Equal(0, await PictureRowsAsync("imp-pic-2"));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/items/imp-pic-3/image")).StatusCode);
    }

    async Task<long> PictureRowsAsync(string sku)
    {
        await using var connection = new NpgsqlConnection(app.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM item_pictures WHERE sku = $1", connection);
        command.Parameters.Add(new() { Value = sku });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
