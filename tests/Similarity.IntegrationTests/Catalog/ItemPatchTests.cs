using System.Net;
using System.Net.Http.Json;
using System.Text;
using Similarity.Catalog;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Catalog;

/// <summary>PATCH /items/{sku} (JSON Merge Patch): what a storefront changes all day costs no re-embedding.</summary>
public sealed class ItemPatchTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    static readonly byte[] Photo = TestImages.Noise(64, 48, seed: 77);

    static StringContent Patch(string json, string mediaType = "application/merge-patch+json") => new(json, Encoding.UTF8, mediaType);

    async Task<StoredVectors> VectorsAsync(string sku) => (await BruteForce.ReadAllAsync(app.Database)).Single(v => v.Sku == sku);

    [Fact]
    public async Task Price_stock_brand_attributes_and_picture_url_change_without_re_embedding()
    {
        var client = app.CreateAdminClient();
        await client.PutItemAsync(new TestItem("patch-1", "Blue enamel mug", "mugs", "Acme", 9.99m, Image: Photo, Attributes: """{"colour": "blue", "size": "M"}"""));
        var before = await VectorsAsync("patch-1");

        var response = await client.PatchAsync("/items/patch-1", Patch("""
            {"price": 12.50, "currency": "EUR", "available": false, "brand": "Globex",
             "attributes": {"size": "L", "colour": null, "glaze": "matt"}, "imageUrl": "https://cdn.example/mug.jpg"}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var item = (await response.Content.ReadFromJsonAsync<ItemsApi.ItemResponse>())!;
        Assert.False(item.Embedded);
        Assert.Equal("12.50", item.Price!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)); // as written
        Assert.False(item.Available);
        Assert.Equal("Globex", item.Brand);
        Assert.Equal("""{"size":"L","glaze":"matt"}""", System.Text.Json.JsonSerializer.Serialize(item.Attributes));
        Assert.Equal("https://cdn.example/mug.jpg", item.ImageUrl);
        Assert.Equal("Blue enamel mug", item.Title);
        Assert.True(item.Modalities.Image); // the picture stays
        Assert.Equal(before.Fused, (await VectorsAsync("patch-1")).Fused); // not re-embedded: the very same vector
    }

    [Fact]
    public async Task A_new_title_is_embedded_and_fused_with_the_stored_picture_as_a_full_put_would()
    {
        var client = app.CreateAdminClient();
        await client.PutItemAsync(new TestItem("patch-2", "Blue enamel mug", "mugs", Image: Photo));

        var response = await client.PatchAsync("/items/patch-2", Patch("""{"title": "Red stoneware teapot"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<ItemsApi.ItemResponse>())!.Embedded);
        // The reference: the same picture and the new title sent whole to another SKU through PUT.
        await client.PutItemAsync(new TestItem("patch-2-put", "Red stoneware teapot", "mugs", Image: Photo));
        var (patched, put) = (await VectorsAsync("patch-2"), await VectorsAsync("patch-2-put"));
        Assert.True(BruteForce.Cosine(patched.Fused, put.Fused) > 1 - 1e-5, "the patched vector is not the PUT vector");
        Assert.True(BruteForce.Cosine(patched.Text!, put.Text!) > 1 - 1e-5);
    }

    // A plain UPDATE of the items table, whose CHECKs ('^https?://', at most 4 decimals) refused these as sent: a 500 before.
    [Theory]
    [InlineData("patch-url", """{"imageUrl": "HTTPS://cdn.example/Mug.jpg"}""", "https://cdn.example/Mug.jpg", "5")]
    [InlineData("patch-zeros", """{"price": 12.500000}""", null, "12.50")]
    [InlineData("patch-zeros-jpy", """{"price": "7.00000", "currency": "JPY"}""", null, "7")]
    public async Task A_patch_the_database_would_refuse_as_written_is_stored_normalised(string sku, string patch, string? imageUrl, string price)
    {
        var client = app.CreateAdminClient();
        await client.PutItemAsync(new TestItem(sku, "Plain mug", Price: 5m));

        var response = await client.PatchAsync($"/items/{sku}", Patch(patch));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var item = (await client.GetFromJsonAsync<ItemsApi.ItemResponse>($"/items/{sku}"))!;
        Assert.Equal(imageUrl, item.ImageUrl);
        Assert.Equal(price, item.Price!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("""{"colour": "red"}""", "colour")]
    [InlineData("""{"sku": "other"}""", "sku")]
    [InlineData("""{"title": null}""", "title")]
    [InlineData("""{"title": 42}""", "title")]
    [InlineData("""{"price": "1,99"}""", "price")]
    [InlineData("""{"price": [1]}""", "price")]
    [InlineData("""{"available": "yes"}""", "available")]
    [InlineData("""{"attributes": "red"}""", "attributes")]
    [InlineData("""{"imageUrl": "ftp://x/y.png"}""", "imageUrl")]
    [InlineData("""{"imageUrl": "https:/x/y.png"}""", "imageUrl")]
    [InlineData("""[1, 2]""", "body")]
    [InlineData("""not json""", "body")]
    public async Task A_bad_patch_is_a_400_naming_its_field_and_changes_nothing(string patch, string field)
    {
        var client = app.CreateAdminClient();
        await client.PutItemAsync(new TestItem("patch-bad", "Plain mug", Price: 5m));

        await CatalogClient.AssertNamesFieldAsync(await client.PatchAsync("/items/patch-bad", Patch(patch)), field);

        var item = (await client.GetFromJsonAsync<ItemsApi.ItemResponse>("/items/patch-bad"))!;
        Assert.Equal(("Plain mug", 5m), (item.Title, item.Price!.Value));
    }

    [Fact]
    public async Task The_wrong_media_type_a_missing_item_and_a_missing_key_are_refused()
    {
        var admin = app.CreateAdminClient();
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await admin.PatchAsync("/items/x", Patch("{}", "text/plain"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PatchAsync("/items/no-such-item", Patch("""{"price": 1}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().PatchAsync("/items/x", Patch("""{"price": 1}"""))).StatusCode);
    }

    [Fact]
    public async Task An_import_counts_field_changes_as_updated_and_content_changes_as_reembedded()
    {
        var client = app.CreateAdminClient();
        string Catalog(string priceOf1, string titleOf2) =>
            $"sku,title,brand,price\ncount-1,Mug,Acme,{priceOf1}\ncount-2,{titleOf2},Acme,1.00\ncount-3,Plate,Acme,1.00\n";
        await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(Catalog("1.00", "Bowl")))).Id);
        var before = await VectorsAsync("count-1");

        var again = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(Catalog("2.00", "Big bowl")))).Id);

        Assert.Equal(new ImportsApi.Counts(3, 3, Inserted: 0, Updated: 1, Reembedded: 1, Unchanged: 1, Superseded: 0, Errors: 0), again.Counts);
        Assert.Equal(before.Fused, (await VectorsAsync("count-1")).Fused);
        Assert.Equal(2.00m, (await client.GetFromJsonAsync<ItemsApi.ItemResponse>("/items/count-1"))!.Price);
    }
}
