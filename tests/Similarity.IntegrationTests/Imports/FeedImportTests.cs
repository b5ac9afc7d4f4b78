using System.Net;
using System.Net.Http.Json;
using Similarity.Catalog;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Imports;

/// <summary>
/// Catalogs as shops keep them — a Merchant Center feed (TSV and RSS), a Shopify export, any CSV with a mapping —
/// with their pictures on a web server of the test's own (127.0.0.1), drawings from Debian's openclipart.
/// </summary>
public sealed class FeedImportTests(FeedImportTests.FetchingApp app, FeedImportTests.Drawings drawings)
    : IClassFixture<FeedImportTests.FetchingApp>, IClassFixture<FeedImportTests.Drawings>
{
    /// <summary>Eight openclipart drawings on the test's own picture server.</summary>
    public sealed class Drawings : IAsyncLifetime
    {
        public PictureServer Server { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var files = Clipart.Drawings("food", 8);
            Server = await PictureServer.StartAsync(files.Select((file, i) => (Name: $"drawing-{i}.png", Bytes: File.ReadAllBytes(file))).ToDictionary(p => p.Name, p => p.Bytes));
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

    /// <summary>The service allowed to fetch from loopback (the tests' picture server), with a short timeout.</summary>
    public sealed class FetchingApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [
            new("Similarity:Imports:ImageFetch:AllowLoopback", "true"),
            new("Similarity:Imports:ImageFetch:TimeoutSeconds", "1"),
            new("Similarity:Imports:ImageFetch:MaxBytes", "5000000"),
            new("Similarity:Imports:BatchSize", "4"),
        ];
    }

    PictureServer Pictures => drawings.Server;

    string Picture(int i) => Pictures.Url($"/pictures/drawing-{i}.png");

    async Task<(ImportsApi.JobResponse Job, List<ImportError> Errors)> ImportAsync(MultipartFormDataContent form)
    {
        var client = app.CreateAdminClient();
        var job = await client.WaitForEndAsync((await client.StartAsync(form)).Id);
        var errors = (await client.GetFromJsonAsync<ImportsApi.ErrorsResponse>($"/imports/{job.Id}/errors"))!.Errors.ToList();
        return (job, errors);
    }

    async Task<ItemsApi.ItemResponse> ItemAsync(string sku) => (await app.CreateClient().GetFromJsonAsync<ItemsApi.ItemResponse>($"/items/{sku}"))!;

    [Fact]
    public async Task A_merchant_center_tsv_with_pictures_on_a_web_server_imports_as_is_with_an_error_per_bad_row()
    {
        var rows = new List<string>
        {
            "id\ttitle\tdescription\tprice\tavailability\tbrand\tgtin\tproduct_type\timage link",
            $"mc-0\tApple drawing\tA red apple.\t4.50 USD\tin_stock\tAcme\t0001\tFood > Fruit\t{Picture(0)}",
            $"mc-1\tBanana drawing\t\t3.00 USD\tout_of_stock\tAcme\t0002\tFood > Fruit\t{Picture(1)}",
            $"mc-2\tBread drawing\t\t2.25 USD\tpreorder\tGlobex\t0003\tFood > Bakery\t{Picture(2)}",
            $"mc-3\tCheese drawing\t\t9.99 USD\tin_stock\tGlobex\t0004\tFood > Dairy\t{Picture(3)}",
            $"mc-4\tRedirected drawing\t\t1.00 USD\tin_stock\tAcme\t0005\tFood\t{Pictures.Url("/hop/2/drawing-4.png")}",
            $"mc-5\tMissing picture\t\t1.00 USD\tin_stock\tAcme\t\tFood\t{Pictures.Url("/missing")}",
            $"mc-6\tSlow picture\t\t1.00 USD\tin_stock\tAcme\t\tFood\t{Pictures.Url("/slow")}",
            $"mc-7\tHuge picture\t\t1.00 USD\tin_stock\tAcme\t\tFood\t{Pictures.Url("/huge")}",
            $"mc-8\tA page, not a picture\t\t1.00 USD\tin_stock\tAcme\t\tFood\t{Pictures.Url("/page")}",
            $"mc-9\tComma price\t\t15,00 USD\tin_stock\tAcme\t\tFood\t{Picture(5)}",
            "mc-10\tInternal address\t\t1.00 USD\tin_stock\tAcme\t\tFood\thttp://10.0.0.1/drawing.png",
            $"mc-11\tToo many redirects\t\t1.00 USD\tin_stock\tAcme\t\tFood\t{Pictures.Url("/hop/3/drawing-6.png")}",
        };

        var (job, errors) = await ImportAsync(ImportClient.Form(string.Join("\n", rows) + "\n", "feed.tsv"));

        Assert.Equal("merchant-center", job.Format);
        Assert.Equal("succeeded_with_errors", job.Status);
        Assert.Equal(5, job.Counts.Inserted);
        Assert.Equal(7, job.Counts.Errors);
        Assert.Equal(5, job.Counts.PicturesDownloaded);
        var reasons = errors.ToDictionary(e => e.Sku!, e => e);
        Assert.Equal(["mc-5", "mc-6", "mc-7", "mc-8", "mc-9", "mc-10", "mc-11"], errors.Select(e => e.Sku));
        Assert.Equal([7, 8, 9, 10, 11, 12, 13], errors.Select(e => e.Line));
        Assert.EndsWith("/missing: 404 Not Found", reasons["mc-5"].Reason, StringComparison.Ordinal);
        Assert.EndsWith("/slow: timed out after 1 s", reasons["mc-6"].Reason, StringComparison.Ordinal);
        Assert.Contains("/huge: too large: 200000000 bytes", reasons["mc-7"].Reason, StringComparison.Ordinal);
        Assert.Contains("/page: not an image (served as image/png", reasons["mc-8"].Reason, StringComparison.Ordinal);
        Assert.Contains("has a comma", reasons["mc-9"].Reason, StringComparison.Ordinal);
        Assert.Equal("price", reasons["mc-9"].Columns);
        Assert.Contains("address refused: 10.0.0.1: 10.0.0.1 is a private address", reasons["mc-10"].Reason, StringComparison.Ordinal);
        Assert.EndsWith("more than 3 redirects", reasons["mc-11"].Reason, StringComparison.Ordinal);
        Assert.All(errors.Where(e => e.Sku != "mc-9"), e => Assert.Equal("image link", e.Columns));
        Assert.All(errors, e => Assert.False(e.Stored));

        var apple = await ItemAsync("mc-0");
        Assert.Equal(4.50m, apple.Price);
        Assert.Equal("USD", apple.Currency);
        Assert.Equal("Food > Fruit", apple.Category);
        Assert.Equal(Picture(0), apple.ImageUrl);
        Assert.True(apple.Modalities.Image);
        Assert.Equal("0001", apple.Attributes.GetProperty("gtin").GetString());
        Assert.False((await ItemAsync("mc-1")).Available);
        Assert.True((await ItemAsync("mc-4")).Modalities.Image); // through two redirects
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().GetAsync("/items/mc-5")).StatusCode);
    }

    [Fact]
    public async Task Importing_the_same_feed_again_asks_whether_each_picture_changed_and_embeds_nothing()
    {
        var feed = "id\ttitle\tprice\timage_link\n" + string.Join("\n", Enumerable.Range(0, 4).Select(i => $"again-{i}\tDrawing {i}\t1.00 EUR\t{Picture(4 + i)}")) + "\n";
        var (first, _) = await ImportAsync(ImportClient.Form(feed, "feed.tsv"));
        Assert.Equal(4, first.Counts.Inserted);
        var downloadedBefore = Pictures.Count(200);
        var notModifiedBefore = Pictures.Count(304);

        var (second, errors) = await ImportAsync(ImportClient.Form(feed, "feed.tsv"));

        Assert.Equal("succeeded", second.Status);
        Assert.Empty(errors);
        Assert.Equal(new ImportsApi.Counts(4, 4, 0, 0, 0, 4, 0, 0, 0), second.Counts);
        Assert.Equal(downloadedBefore, Pictures.Count(200)); // not one picture sent again
        Assert.Equal(notModifiedBefore + 4, Pictures.Count(304));
    }

    // The items table's CHECK on image_url is '^https?://', case-sensitive: "HTTP://…" as sent failed the row at the
    // staging table, and a re-import changing only the URL's case failed the whole job at the fields' update.
    [Fact]
    public async Task A_picture_url_with_an_upper_case_scheme_is_stored_in_lower_case_and_a_reimport_of_it_changes_nothing()
    {
        var lower = Picture(3);
        var upper = "HTTP" + lower["http".Length..];
        string Feed(string urlOf0) => $"id\ttitle\tprice\timage_link\nscheme-0\tDrawing\t1.00 EUR\t{urlOf0}\nscheme-1\tOther drawing\t1.00 EUR\t{upper}\n";

        var (first, firstErrors) = await ImportAsync(ImportClient.Form(Feed(lower), "feed.tsv"));

        Assert.Equal("succeeded", first.Status);
        Assert.Empty(firstErrors);
        Assert.Equal(2, first.Counts.Inserted);
        Assert.Equal(lower, (await ItemAsync("scheme-1")).ImageUrl);
        Assert.True((await ItemAsync("scheme-1")).Modalities.Image);

        var (second, secondErrors) = await ImportAsync(ImportClient.Form(Feed(upper), "feed.tsv"));

        Assert.Equal("succeeded", second.Status);
        Assert.Empty(secondErrors);
        Assert.Equal(new ImportsApi.Counts(2, 2, 0, 0, 0, 2, 0, 0, 0), second.Counts);
        Assert.Equal(lower, (await ItemAsync("scheme-0")).ImageUrl);
    }

    [Fact]
    public async Task A_merchant_center_rss_feed_imports_with_its_pictures()
    {
        var feed = $"""
            <?xml version="1.0" encoding="UTF-8"?>
            <rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">
              <channel>
                <title>Drawings</title>
                <item>
                  <g:id>rss-1</g:id>
                  <title>Carrot drawing</title>
                  <description>An orange carrot.</description>
                  <g:image_link>{Picture(6)}</g:image_link>
                  <g:price>2.00 EUR</g:price>
                  <g:availability>in_stock</g:availability>
                  <g:product_type>Food &gt; Vegetables</g:product_type>
                  <g:condition>new</g:condition>
                </item>
                <item>
                  <g:id>rss-2</g:id>
                  <title>Grape drawing</title>
                  <g:image_link>{Picture(7)}</g:image_link>
                  <g:price>300 JPY</g:price>
                </item>
              </channel>
            </rss>
            """;

        var (job, errors) = await ImportAsync(ImportClient.Form(feed, "feed.xml"));

        Assert.Equal("merchant-center", job.Format);
        Assert.Empty(errors);
        Assert.Equal(2, job.Counts.Inserted);
        var carrot = await ItemAsync("rss-1");
        Assert.Equal("An orange carrot.", carrot.Description);
        Assert.Equal("Food > Vegetables", carrot.Category);
        Assert.Equal("new", carrot.Attributes.GetProperty("condition").GetString());
        Assert.True(carrot.Modalities.Image);
        Assert.Equal(300m, (await ItemAsync("rss-2")).Price);
    }

    [Fact]
    public async Task A_shopify_export_imports_each_variant_with_the_products_picture()
    {
        var csv = "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,Variant SKU,Variant Price,Image Src,Image Position,Status\n" +
            $"fruit-print,Fruit print,\"<p>A <b>bright</b> print.</p>\",Acme,Prints,\"fruit, kitchen\",true,Size,A4,PRINT-A4,12.00,{Picture(0)},1,active\n" +
            "fruit-print,,,,,,,,A3,PRINT-A3,18.00,,,\n" +
            $"fruit-print,,,,,,,,,,,{Picture(1)},2,\n";

        var (job, errors) = await ImportAsync(ImportClient.Form(csv, "products_export.csv"));

        Assert.Equal("shopify", job.Format);
        Assert.Empty(errors);
        Assert.Equal(2, job.Counts.Inserted);
        var a3 = await ItemAsync("PRINT-A3");
        Assert.Equal("Fruit print — A3", a3.Title);
        Assert.Equal("A bright print.", a3.Description);
        Assert.Equal("Acme", a3.Brand);
        Assert.Equal("Prints", a3.Category);
        Assert.Equal(18.00m, a3.Price);
        Assert.Equal(Picture(0), a3.ImageUrl); // the product's first picture
        Assert.True(a3.Modalities.Image);
    }

    [Fact]
    public async Task With_missing_image_text_only_a_row_whose_picture_fails_is_stored_without_it_and_listed()
    {
        var feed = "id\ttitle\tprice\timage_link\n" +
            $"textonly-1\tNo picture to be had\t1.00 EUR\t{Pictures.Url("/missing")}\n" +
            $"textonly-2\tA picture\t1.00 EUR\t{Picture(2)}\n";

        var (job, errors) = await ImportAsync(ImportClient.Form(feed, "feed.tsv").With("missingImage", "textOnly"));

        Assert.Equal("succeeded", job.Status);
        Assert.Equal(2, job.Counts.Inserted);
        Assert.Equal(0, job.Counts.Errors);
        Assert.Equal(1, job.Counts.Warnings);
        var listed = Assert.Single(errors);
        Assert.True(listed.Stored);
        Assert.Contains("404 Not Found; stored without a picture", listed.Reason, StringComparison.Ordinal);
        Assert.False((await ItemAsync("textonly-1")).Modalities.Image);
    }

    [Fact]
    public async Task Rejected_rows_and_rows_stored_with_a_warning_are_counted_apart_and_both_listed()
    {
        var feed = "id\ttitle\tprice\timage_link\n" +
            $"both-1\tNo picture to be had\t1.00 EUR\t{Pictures.Url("/missing")}\n" +
            $"both-2\tA picture\t1.00 EUR\t{Picture(3)}\n" +
            $"both-3\tBroken price\tfree\t{Picture(4)}\n" +
            $"both-4\tAnother lost picture\t1.00 EUR\t{Pictures.Url("/missing")}\n" +
            $"both-5\tComma price\t1,00 EUR\t{Picture(5)}\n";

        var (job, errors) = await ImportAsync(ImportClient.Form(feed, "both.tsv").With("missingImage", "textOnly"));

        Assert.Equal("succeeded_with_errors", job.Status);
        Assert.Equal(3, job.Counts.Inserted);
        Assert.Equal(2, job.Counts.Errors);
        Assert.Equal(2, job.Counts.Warnings);
        Assert.Equal(job.Counts.Errors + job.Counts.Warnings, errors.Count);
        Assert.Equal(["both-3", "both-5"], errors.Where(e => !e.Stored).Select(e => e.Sku));
        Assert.Equal(["both-1", "both-4"], errors.Where(e => e.Stored).Select(e => e.Sku));
        var listed = await app.CreateAdminClient().GetFromJsonAsync<List<ImportsApi.JobResponse>>("/imports");
        Assert.Contains(listed!, j => j.Id == job.Id && j.FileName == "both.tsv" && j.Counts.Warnings == 2 && j.Counts.Errors == 2);
    }

    [Fact]
    public async Task Any_other_csv_imports_through_a_mapping_and_keeps_its_other_columns()
    {
        var csv = "Artikelnummer;Bezeichnung;Preis;Bild;Farbe\n" + $"map-1;Apfel;1.20;{Picture(0)};rot\n";
        var form = ImportClient.Form(csv, "artikel.csv").With("mapping", """{"sku": "Artikelnummer", "title": "Bezeichnung", "price": "Preis", "imageUrl": "Bild"}""");

        var (job, errors) = await ImportAsync(form);

        Assert.Equal("mapped", job.Format);
        Assert.Empty(errors);
        var apple = await ItemAsync("map-1");
        Assert.Equal("Apfel", apple.Title);
        Assert.Equal(1.20m, apple.Price);
        Assert.Equal("rot", apple.Attributes.GetProperty("Farbe").GetString());
        Assert.True(apple.Modalities.Image);
    }

    [Theory]
    [InlineData("Artikelnummer;Bezeichnung\nA;B\n", null, "catalog", "semicolon-separated columns: Artikelnummer, Bezeichnung")]
    [InlineData("sku,title\nx,y\n", "excel", "format", "Unknown format 'excel'")]
    [InlineData("Artikelnummer;Bezeichnung\nA;B\n", """{"sku": "Nummer", "title": "Bezeichnung"}""", "mapping", "sku → 'Nummer'")]
    public async Task An_upload_that_cannot_be_read_is_refused_at_once_naming_the_field(string catalog, string? formatOrMapping, string field, string message)
    {
        var form = ImportClient.Form(catalog, "catalog.csv");
        if (formatOrMapping is not null)
            form.With(formatOrMapping.StartsWith('{') ? "mapping" : "format", formatOrMapping);
        var response = await app.CreateAdminClient().PostAsync("/imports", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = CatalogClient.Problem(await response.Content.ReadAsStringAsync());
        Assert.Contains(message, problem.GetProperty("errors").GetProperty(field)[0].GetString(), StringComparison.Ordinal);
    }
}
