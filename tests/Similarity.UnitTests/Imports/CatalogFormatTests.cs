using Similarity.Hosting;
using Similarity.Imports.Formats;

namespace Similarity.UnitTests.Imports;

/// <summary>Each shop format read from a small file written here, field by field, with the file's own line numbers.</summary>
public sealed class CatalogFormatTests : IDisposable
{
    readonly List<string> _files = [];

    string Write(string text, string suffix = ".txt")
    {
        var path = Path.Combine(Path.GetTempPath(), $"catalog-{Guid.NewGuid():N}{suffix}");
        File.WriteAllText(path, text);
        _files.Add(path);
        return path;
    }

    public void Dispose()
    {
        foreach (var file in _files)
            File.Delete(file);
    }

    List<SourceRow> Read(string text, string? format = null, string? mapping = null)
    {
        var path = Write(text);
        var layout = CatalogLayout.Detect(path, format, mapping is not null);
        return CatalogReader.Read(path, layout, mapping is null ? null : MappedCatalog.Parse(mapping)).ToList();
    }

    const string MerchantCenterTsv = "id\ttitle\tdescription\tlink\timage link\tadditional_image_link\tprice\tsale_price\tavailability\tbrand\tgtin\tcondition\tproduct_type\titem_group_id\tcolor\n" +
        "mug-1\tBlue mug\tA mug.\thttps://shop.example/mug-1\thttps://cdn.example/mug-1.jpg\thttps://cdn.example/mug-1b.jpg\t15.00 USD\t12.00 USD\tin_stock\tAcme\t0123456789012\tnew\tHome > Kitchen > Mugs\tmugs\tblue\n" +
        "mug-2\tRed mug\t\t\thttps://cdn.example/mug-2.jpg\t\t15,00 EUR\t\tout_of_stock\tAcme\t\t\t\t\t\n" +
        "mug-3\tGreen mug\t\t\t\t\tfifteen\t\tsold out\t\t\t\t\t\t\n";

    [Fact]
    public void A_merchant_center_tsv_maps_its_attributes_onto_ours_and_keeps_the_rest()
    {
        var rows = Read(MerchantCenterTsv);

        Assert.Equal([2, 3, 4], rows.Select(r => r.Line));
        var mug = rows[0];
        Assert.Equal("mug-1", mug[CatalogField.Sku]);
        Assert.Equal("Blue mug", mug[CatalogField.Title]);
        Assert.Equal("15.00", mug[CatalogField.Price]);
        Assert.Equal("USD", mug[CatalogField.Currency]);
        Assert.Equal("true", mug[CatalogField.Available]);
        Assert.Equal("Acme", mug[CatalogField.Brand]);
        Assert.Equal("Home > Kitchen > Mugs", mug[CatalogField.Category]);
        Assert.Equal("https://cdn.example/mug-1.jpg", mug[CatalogField.ImageUrl]);
        Assert.Equal("image link", mug.ColumnOf(CatalogField.ImageUrl));
        Assert.Equal(["https://cdn.example/mug-1b.jpg"], mug.Attributes["additional_image_link"]);
        Assert.Equal(["12.00 USD"], mug.Attributes["sale_price"]);
        Assert.Equal(["0123456789012"], mug.Attributes["gtin"]);
        Assert.Equal(["mugs"], mug.Attributes["item_group_id"]);
        Assert.Equal(["blue"], mug.Attributes["color"]);
        Assert.Empty(mug.Problems);

        Assert.Equal("15,00", rows[1][CatalogField.Price]); // validation refuses the comma, naming the column
        Assert.Equal("false", rows[1][CatalogField.Available]);

        Assert.Equal([("price", "The price 'fifteen' is not an amount and a currency like \"15.00 USD\"."),
            ("availability", "The availability 'sold out' is none of in_stock, out_of_stock, preorder, backorder.")],
            rows[2].Problems.Select(p => (p.Column, p.Message)));
    }

    const string Rss = """
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">
          <channel>
            <title>Shop</title>
            <item>
              <g:id>lamp-1</g:id>
              <title>Desk lamp</title>
              <description><![CDATA[A <b>bright</b> lamp.]]></description>
              <link>https://shop.example/lamp-1</link>
              <g:image_link>https://cdn.example/lamp-1.png</g:image_link>
              <g:additional_image_link>https://cdn.example/lamp-1b.png</g:additional_image_link>
              <g:additional_image_link>https://cdn.example/lamp-1c.png</g:additional_image_link>
              <g:price>39.90 EUR</g:price>
              <g:availability>preorder</g:availability>
              <g:product_type>Home &gt; Lighting</g:product_type>
              <g:shipping>
                <g:country>DE</g:country>
                <g:price>4.95 EUR</g:price>
              </g:shipping>
            </item>
            <item>
              <g:id>lamp-2</g:id>
              <g:title>Floor lamp</g:title>
              <g:price>99 EUR</g:price>
            </item>
          </channel>
        </rss>
        """;

    [Fact]
    public void A_merchant_center_rss_feed_is_read_streaming_with_element_lines()
    {
        var rows = Read(Rss);

        Assert.Equal([5, 21], rows.Select(r => r.Line));
        var lamp = rows[0];
        Assert.Equal("lamp-1", lamp[CatalogField.Sku]);
        Assert.Equal("Desk lamp", lamp[CatalogField.Title]);
        Assert.Equal("A <b>bright</b> lamp.", lamp[CatalogField.Description]);
        Assert.Equal("39.90", lamp[CatalogField.Price]);
        Assert.Equal("g:price", lamp.ColumnOf(CatalogField.Price));
        Assert.Equal("true", lamp[CatalogField.Available]);
        Assert.Equal("Home > Lighting", lamp[CatalogField.Category]);
        Assert.Equal("https://cdn.example/lamp-1.png", lamp[CatalogField.ImageUrl]);
        Assert.Equal(["https://cdn.example/lamp-1b.png", "https://cdn.example/lamp-1c.png"], lamp.Attributes["additional_image_link"]);
        Assert.Equal(["https://shop.example/lamp-1"], lamp.Attributes["link"]);
        Assert.Equal(["country: DE; price: 4.95 EUR"], lamp.Attributes["shipping"]);
        Assert.Equal("Floor lamp", rows[1][CatalogField.Title]);
    }

    [Fact]
    public void A_merchant_center_atom_feed_takes_the_product_id_from_g_id_not_atom_id()
    {
        var rows = Read("""
            <feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">
              <title>Shop</title>
              <entry>
                <id>tag:shop.example,2026:entry-1</id>
                <title>Wool hat</title>
                <summary>Warm.</summary>
                <link href="https://shop.example/hat-1"/>
                <g:id>hat-1</g:id>
                <g:price>20.00 GBP</g:price>
              </entry>
            </feed>
            """);

        var hat = Assert.Single(rows);
        Assert.Equal("hat-1", hat[CatalogField.Sku]);
        Assert.Equal("Wool hat", hat[CatalogField.Title]);
        Assert.Equal("Warm.", hat[CatalogField.Description]);
        Assert.Equal(["https://shop.example/hat-1"], hat.Attributes["link"]);
        Assert.Equal("GBP", hat[CatalogField.Currency]);
    }

    [Fact]
    public void A_feed_with_a_dtd_is_refused_and_no_entity_is_ever_expanded()
    {
        var path = Write("""
            <?xml version="1.0"?>
            <!DOCTYPE rss [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
            <rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>x</g:id><title>&secret;</title></item></channel></rss>
            """);
        var error = Assert.Throws<InputRejectedException>(() => CatalogReader.Read(path, CatalogLayout.Detect(path, null, false)).ToList());
        Assert.Equal("catalog", error.Field);
        Assert.Contains("DTD", error.Message, StringComparison.Ordinal);
    }

    const string Shopify = "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,Variant SKU,Variant Price,Variant Barcode,Image Src,Image Position,Variant Image,Status\n" +
        "classic-tee,Classic Tee,\"<p>Soft <b>cotton</b>.</p><ul><li>Unisex</li></ul>\",Acme,Apparel > Shirts,T-Shirts,\"summer, cotton\",true,Size,S,TEE-S,19.00,111,https://cdn.example/tee.jpg,1,,active\n" +
        "classic-tee,,,,,,,,,M,TEE-M,19.50,222,https://cdn.example/tee-back.jpg,2,https://cdn.example/tee-m.jpg,\n" +
        "classic-tee,,,,,,,,,,,,,https://cdn.example/tee-side.jpg,3,,\n" +
        "plain-mug,Plain Mug,A mug,Acme,,Mugs,,false,Title,Default Title,,9.00,,,,,draft\n";

    [Fact]
    public void A_shopify_export_gives_one_item_per_variant_with_the_products_fields()
    {
        var rows = Read(Shopify);

        Assert.Equal(["TEE-S", "TEE-M", "plain-mug"], rows.Select(r => r[CatalogField.Sku]));
        Assert.Equal([2, 3, 5], rows.Select(r => r.Line));
        var small = rows[0];
        Assert.Equal("Classic Tee — S", small[CatalogField.Title]);
        Assert.Equal("Soft cotton. Unisex", small[CatalogField.Description]);
        Assert.Equal("Acme", small[CatalogField.Brand]);
        Assert.Equal("T-Shirts", small[CatalogField.Category]);
        Assert.Equal("19.00", small[CatalogField.Price]);
        Assert.Equal("Variant Price", small.ColumnOf(CatalogField.Price));
        Assert.Equal("true", small[CatalogField.Available]);
        Assert.Equal("https://cdn.example/tee.jpg", small[CatalogField.ImageUrl]);
        Assert.Equal(["summer", "cotton"], small.Attributes["tags"]);
        Assert.Equal(["S"], small.Attributes["size"]);
        Assert.Equal(["Apparel > Shirts"], small.Attributes["product_category"]);

        var medium = rows[1];
        Assert.Equal("Classic Tee — M", medium[CatalogField.Title]);
        Assert.Equal("https://cdn.example/tee-m.jpg", medium[CatalogField.ImageUrl]);
        Assert.Equal("19.50", medium[CatalogField.Price]);

        var mug = rows[2];
        Assert.Equal("Plain Mug", mug[CatalogField.Title]); // "Default Title": no options
        Assert.Equal("Handle", mug.ColumnOf(CatalogField.Sku));
        Assert.Equal("false", mug[CatalogField.Available]);
        Assert.Null(mug[CatalogField.ImageUrl]);
    }

    [Fact]
    public void Any_other_csv_is_read_through_a_mapping_and_keeps_its_other_columns()
    {
        var rows = Read("Artikelnummer;Bezeichnung;Preis;Farbe\nA-1;Becher;4.50;blau\n", mapping: """{"sku": "Artikelnummer", "title": "Bezeichnung", "price": "Preis"}""");

        var row = Assert.Single(rows);
        Assert.Equal("A-1", row[CatalogField.Sku]);
        Assert.Equal("Becher", row[CatalogField.Title]);
        Assert.Equal("Preis", row.ColumnOf(CatalogField.Price));
        Assert.Equal(["blau"], row.Attributes["Farbe"]);
    }

    [Theory]
    [InlineData("""{"sku": "a"}""", "must name your column for 'title'")]
    [InlineData("""{"sku": "a", "title": "b", "colour": "c"}""", "'colour'")]
    [InlineData("[1,2]", "must be a JSON object")]
    public void A_bad_mapping_is_refused_naming_what_is_wrong(string mapping, string expected)
    {
        var error = Assert.Throws<InputRejectedException>(() => MappedCatalog.Parse(mapping));
        Assert.Equal("mapping", error.Field);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sku,title\nx,y\n", "native", ',')]
    [InlineData("sku;title;price\nx;y;1.50\n", "native", ';')]
    [InlineData("sku\ttitle\nx\ty\n", "native", '\t')]
    [InlineData("\"id\",\"title\",\"price\"\n\"a\",\"b\",\"1.00 USD\"\n", "merchant-center", ',')]
    [InlineData("id\ttitle\tprice\na\tb\t1.00 USD\n", "merchant-center", '\t')]
    [InlineData("Handle,Title,Variant SKU,Variant Price\nh,t,s,1\n", "shopify", ',')]
    [InlineData("{\"sku\":\"a\",\"title\":\"b\"}\n", "native", ',')]
    public void The_format_and_delimiter_are_found_from_the_header(string text, string format, char delimiter)
    {
        var layout = CatalogLayout.Detect(Write(text), null, false);
        Assert.Equal(format, layout.Name);
        if (layout.Syntax == CatalogSyntax.Delimited)
            Assert.Equal(delimiter, layout.Delimiter);
    }

    [Fact]
    public void A_semicolon_catalog_of_our_own_reads_like_a_comma_one()
    {
        var rows = Read("sku;title;price;image\nx;A mug;4.50;https://cdn.example/x.png\n");
        var row = Assert.Single(rows);
        Assert.Equal("A mug", row[CatalogField.Title]);
        Assert.Equal("4.50", row[CatalogField.Price]);
        Assert.Equal("https://cdn.example/x.png", row[CatalogField.ImageUrl]); // an image that is a URL is a picture to download
        Assert.Equal("image", row.ColumnOf(CatalogField.ImageUrl));
    }

    [Fact]
    public void A_zip_or_a_picture_sent_as_the_catalog_gets_its_own_message()
    {
        var zip = Path.Combine(Path.GetTempPath(), $"catalog-{Guid.NewGuid():N}.zip");
        _files.Add(zip);
        using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Create))
            archive.CreateEntry("catalog.csv");
        var error = Assert.Throws<InputRejectedException>(() => CatalogLayout.Detect(zip, null, false));
        Assert.Contains("zip archive", error.Message, StringComparison.Ordinal);

        var png = Path.Combine(Path.GetTempPath(), $"catalog-{Guid.NewGuid():N}.png");
        _files.Add(png);
        File.WriteAllBytes(png, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]);
        Assert.Contains("binary file", Assert.Throws<InputRejectedException>(() => CatalogLayout.Detect(png, null, false)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_of_no_known_format_names_its_columns_and_the_way_out()
    {
        var error = Assert.Throws<InputRejectedException>(() => CatalogLayout.Detect(Write("Artikelnummer;Bezeichnung\nA;B\n"), null, false));
        Assert.Contains("semicolon-separated columns: Artikelnummer, Bezeichnung", error.Message, StringComparison.Ordinal);
        Assert.Contains("`mapping`", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_quoted_value_over_several_lines_keeps_the_next_rows_line_numbers_true()
    {
        var rows = Read("sku,title,description\na,One,\"first line\nsecond line\"\nb,Two,\n");
        Assert.Equal([2, 4], rows.Select(r => r.Line));
        Assert.Equal("first line\nsecond line", rows[0][CatalogField.Description]);
    }
}
