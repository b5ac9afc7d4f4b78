using Similarity.Imports.Formats;

namespace Similarity.UnitTests.Imports;

/// <summary>
/// A Shopify export shaped as Shopify writes it: the option names only on a product's first row, empty on its
/// later variant rows, two options per product and an image-only row at the end.
/// </summary>
public sealed class ShopifyVariantTests : IDisposable
{
    const string Header = "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published," +
        "Option1 Name,Option1 Value,Option1 Linked To,Option2 Name,Option2 Value,Option2 Linked To,Option3 Name,Option3 Value,Option3 Linked To," +
        "Variant SKU,Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service," +
        "Variant Price,Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,Image Position,Image Alt Text," +
        "Gift Card,SEO Title,SEO Description,Variant Image,Variant Weight Unit,Variant Tax Code,Cost per item,Status\n";

    const string Export = Header +
        "hoodie,Zip Hoodie,<p>Warm.</p>,Acme,Apparel,Hoodies,winter,true,Size,S,,Color,Black,,,,,HOOD-S-BLK,500,shopify,4,deny,manual,49.00,,true,true,,https://cdn.example/hoodie.jpg,1,,false,,,,g,,,active\n" +
        "hoodie,,,,,,,,,S,,,Grey,,,,,HOOD-S-GRY,500,shopify,2,deny,manual,49.00,,true,true,,,,,,,,https://cdn.example/hoodie-grey.jpg,g,,,\n" +
        "hoodie,,,,,,,,,M,,,Black,,,,,HOOD-M-BLK,520,shopify,7,deny,manual,51.00,,true,true,,,,,,,,,g,,,\n" +
        "hoodie,,,,,,,,,,,,,,,,,,,,,,,,,,,,https://cdn.example/hoodie-back.jpg,2,,,,,,,,,\n" +
        "cap,Cap,,Acme,,Hats,,true,Color,Red,,,,,,,,CAP-RED,90,shopify,3,deny,manual,15.00,,true,true,,,,,false,,,,g,,,active\n" +
        "cap,,,,,,,,,Blue,,,,,,,,CAP-BLU,90,shopify,3,deny,manual,15.00,,true,true,,,,,,,,,g,,,\n";

    readonly string _path = Path.Combine(Path.GetTempPath(), $"shopify-{Guid.NewGuid():N}.csv");

    public void Dispose() => File.Delete(_path);

    List<SourceRow> Read()
    {
        File.WriteAllText(_path, Export);
        return CatalogReader.Read(_path, CatalogLayout.Detect(_path, null, false)).ToList();
    }

    [Fact]
    public void Later_variant_rows_take_the_option_names_of_the_products_first_row()
    {
        var rows = Read();

        Assert.Equal(["HOOD-S-BLK", "HOOD-S-GRY", "HOOD-M-BLK", "CAP-RED", "CAP-BLU"], rows.Select(r => r[CatalogField.Sku]));
        foreach (var hoodie in rows.Take(3))
        {
            Assert.Contains("size", hoodie.Attributes.Keys);
            Assert.Contains("color", hoodie.Attributes.Keys);
            Assert.DoesNotContain("option1", hoodie.Attributes.Keys);
            Assert.DoesNotContain("option2", hoodie.Attributes.Keys);
        }
        Assert.Equal(["S"], rows[1].Attributes["size"]);
        Assert.Equal(["Grey"], rows[1].Attributes["color"]);
        Assert.Equal(["M"], rows[2].Attributes["size"]);
        Assert.Equal(["Black"], rows[2].Attributes["color"]);
        Assert.Equal(["Blue"], rows[4].Attributes["color"]);
        Assert.DoesNotContain("option1", rows[4].Attributes.Keys);
    }

    [Fact]
    public void A_variants_title_names_its_option_values_and_its_picture_is_its_own_or_the_products()
    {
        var rows = Read();

        Assert.Equal("Zip Hoodie — S / Grey", rows[1][CatalogField.Title]);
        Assert.Equal("Zip Hoodie — M / Black", rows[2][CatalogField.Title]);
        Assert.Equal("https://cdn.example/hoodie-grey.jpg", rows[1][CatalogField.ImageUrl]);
        Assert.Equal("https://cdn.example/hoodie.jpg", rows[2][CatalogField.ImageUrl]);
        Assert.Equal("51.00", rows[2][CatalogField.Price]);
    }
}
