using System.Text;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Pages;

/// <summary>The pages in a real browser, on openclipart's drawings: what a merchandiser and an admin do.</summary>
public sealed class PagesTests(PagesTests.DrawingsApp app, Browser browser) : IClassFixture<PagesTests.DrawingsApp>, IClassFixture<Browser>
{
    /// <summary>The service with 16 drawings stored through the API: animals and food, title from the file name.</summary>
    public sealed class DrawingsApp : KestrelSimilarityApp
    {
        public IReadOnlyList<(string Sku, string Title, string Path)> Drawings { get; } =
            [.. Clipart.Drawings("animals", 8).Concat(Clipart.Drawings("food", 8))
                .Select((path, i) => ($"drawing-{i:D2}", Path.GetFileNameWithoutExtension(path).Replace('_', ' '), path))];

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            var client = CreateAdminClient();
            foreach (var (sku, title, path) in Drawings)
                await client.PutItemAsync(new TestItem(sku, title, path.Contains("/animals/", StringComparison.Ordinal) ? "animals" : "food",
                    Price: 5m, Image: await File.ReadAllBytesAsync(path)));
        }
    }

    readonly List<string> _pageErrors = [];

    /// <summary>A page at <paramref name="path"/> whose script errors and failed requests are kept for <see cref="CloseAsync"/>.</summary>
    async Task<IPage> OpenAsync(string path, int width = 1280)
    {
        var page = await browser.NewPageAsync(app.Address, width);
        page.PageError += (_, error) => _pageErrors.Add(error);
        page.Response += (_, response) => { if (response.Status >= 400) _pageErrors.Add($"{response.Status} {response.Url}"); };
        await page.GotoAsync(path);
        return page;
    }

    /// <summary>Closes the page; it must have run without a script error or a failed request.</summary>
    async Task CloseAsync(IPage page)
    {
        await page.CloseAsync();
        Assert.Empty(_pageErrors);
    }

    const string SimilarPicturesLoaded = """
        k => { const pictures = [...document.querySelectorAll('#similar li img')];
               return pictures.length === k && pictures.every(p => p.complete && p.naturalWidth > 0); }
        """;

    [Fact]
    public async Task The_item_page_shows_k_similar_pictures_and_an_image_weight_of_1_orders_them_by_image_score()
    {
        var page = await OpenAsync("/item.html?sku=drawing-00");
        await page.WaitForFunctionAsync(SimilarPicturesLoaded, 12);
        Assert.True(await page.Locator("#item-picture").EvaluateAsync<bool>("p => p.complete && p.naturalWidth > 0"));
        Assert.Equal(app.Drawings[0].Title, await page.Locator("h1").InnerTextAsync());

        await page.Locator("#image-weight").FillAsync("1");
        await page.WaitForFunctionAsync("() => document.querySelector('#similar').dataset.rankedBy === 'weighted'");
        await page.WaitForFunctionAsync(SimilarPicturesLoaded, 12);

        var shown = await page.Locator("#similar li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.sku)");
        var stored = await BruteForce.ReadAllAsync(app.Database);
        var query = stored.Single(s => s.Sku == "drawing-00");
        var byImage = stored.Where(s => s.Sku != query.Sku).OrderByDescending(s => BruteForce.Cosine(query.Image!, s.Image!)).Take(12).Select(s => s.Sku);
        Assert.Equal(byImage, shown);
        Assert.Equal("0.00", await page.Locator("#text-weight-value").InnerTextAsync());
        await Browser.ScreenshotAsync(page, "page-item");
        await CloseAsync(page);
    }

    [Fact]
    public async Task A_photo_search_on_the_catalog_page_returns_the_uploaded_drawing_first()
    {
        var page = await OpenAsync("/");
        await page.Locator("#grid li").First.WaitForAsync();
        var (sku, _, path) = app.Drawings[11];

        await page.Locator("#search-image").SetInputFilesAsync(path);
        await page.Locator("#search button[type=submit]").ClickAsync();

        await page.WaitForFunctionAsync("() => document.querySelector('#heading').textContent === 'Like this photo'");
        Assert.Equal(sku, await page.Locator("#grid li").First.GetAttributeAsync("data-sku"));
        await Browser.ScreenshotAsync(page, "page-catalog-photo-search");
        await CloseAsync(page);
    }

    [Fact]
    public async Task The_catalog_page_pages_through_the_items_and_filters_by_category()
    {
        var page = await OpenAsync("/");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#grid li').length >= 16");
        await page.Locator("#category").FillAsync("Food");
        await page.Locator("#filters button[type=submit]").ClickAsync();
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#grid li').length === 8");

        var skus = await page.Locator("#grid li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.sku)");
        Assert.Equal(app.Drawings.Skip(8).Select(d => d.Sku), skus);
        await CloseAsync(page);
    }

    [Fact]
    public async Task An_import_through_the_page_asks_for_the_key_then_reaches_100_percent_with_its_row_errors_listed()
    {
        var page = await OpenAsync("/imports.html");
        Assert.True(await page.Locator("#key-form").IsVisibleAsync());
        Assert.False(await page.Locator("#upload").IsVisibleAsync()); // no admin control without the key

        await page.Locator("#key").FillAsync(SimilarityApp.AdminKey);
        await page.Locator("#key-form button[type=submit]").ClickAsync();
        var drawings = Clipart.Drawings("plants", 3);
        var csv = "sku,title,price,image\n" + string.Join("\n", drawings.Select((path, i) => $"plant-{i},Plant {i},2.50,p{i}.png"))
            + "\nplant-bad,Broken price,2;50,\n";
        var zip = ImportClient.Zip([.. drawings.Select((path, i) => ($"p{i}.png", File.ReadAllBytes(path)))]);
        await page.Locator("#catalog").SetInputFilesAsync(new FilePayload { Name = "plants.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(csv) });
        await page.Locator("#images").SetInputFilesAsync(new FilePayload { Name = "plants.zip", MimeType = "application/zip", Buffer = zip });
        await page.Locator("#upload button[type=submit]").ClickAsync();

        await page.Locator("#errors tbody tr").First.WaitForAsync(new() { Timeout = 120_000 });
        Assert.True(await page.Locator("#progress").EvaluateAsync<bool>("p => p.value === p.max && p.max === 4"));
        var summary = await page.Locator("#job-summary").InnerTextAsync();
        Assert.Contains("succeeded with errors", summary, StringComparison.Ordinal);
        Assert.Contains("1 row error", summary, StringComparison.Ordinal); // the API's name for them (counts.errors), not "rejected"
        Assert.Equal("Row errors", await page.Locator("#errors caption").InnerTextAsync());
        Assert.Equal(["plant-bad"], await page.Locator("#errors tbody tr td:nth-child(3)").AllInnerTextsAsync());
        Assert.True(await page.Locator("#errors-csv").IsVisibleAsync());
        await AssertNoSeriousViolationsAsync(page); // the admin view: form, progress, row errors, recent jobs
        await Browser.ScreenshotAsync(page, "page-imports");
        await CloseAsync(page);
    }

    [Fact]
    public async Task The_catalog_page_says_how_many_items_match_and_shows_a_price_without_currency_as_such()
    {
        var page = await OpenAsync("/");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#grid li').length >= 16");
        var total = (await app.CreateClient().GetFromJsonAsync<JsonElement>("/items?limit=1")).GetProperty("total").GetInt64();

        Assert.Equal(total <= 24 ? $"{total} items." : $"{total} items; showing the first 24.", await page.Locator("#status").TextContentAsync());
        var meta = await page.Locator("#grid li[data-sku='drawing-00'] .meta").TextContentAsync();
        Assert.Matches(@"^5[.,]00 \(no currency\)$", meta);
        await page.Locator("#category").FillAsync("Food");
        await page.Locator("#filters button[type=submit]").ClickAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('status').textContent === '8 items.'");
        await CloseAsync(page);
    }

    [Fact]
    public async Task The_item_page_without_a_sku_says_how_to_choose_one_instead_of_failing()
    {
        var page = await OpenAsync("/item.html");
        await page.WaitForFunctionAsync("() => document.getElementById('status').textContent.startsWith('No item chosen')");

        Assert.True(await page.Locator("#controls").IsHiddenAsync());
        Assert.Equal("/", await page.Locator("#status a").GetAttributeAsync("href"));
        await CloseAsync(page);
    }

    [Theory]
    [InlineData("/", 1280)]
    [InlineData("/", 390)]
    [InlineData("/item.html?sku=drawing-03", 1280)]
    [InlineData("/item.html?sku=drawing-03", 390)]
    [InlineData("/item.html", 390)]
    [InlineData("/imports.html", 1280)]
    public async Task Axe_finds_no_serious_or_critical_accessibility_violation(string path, int width)
    {
        var page = await OpenAsync(path, width);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await AssertNoSeriousViolationsAsync(page);
        var name = path switch { "/" => "catalog", "/item.html" => "item-without-sku", _ => path.TrimStart('/').Split('.')[0] };
        await Browser.ScreenshotAsync(page, $"page-{name}-{width}");
        await CloseAsync(page);
    }

    /// <summary>axe-core over the page as it is now: no serious or critical violation.</summary>
    internal static async Task AssertNoSeriousViolationsAsync(IPage page)
    {
        // Run through the DevTools protocol, not a <script> tag: the pages' CSP rightly refuses inline scripts.
        await page.EvaluateAsync(await File.ReadAllTextAsync(Path.Combine(TestPaths.Root, "tests", "lint", "node_modules", "axe-core", "axe.min.js")));
        var violations = await page.EvaluateAsync<JsonElement>("""
            async () => (await axe.run()).violations.map(v => ({ id: v.id, impact: v.impact, where: v.nodes.map(n => n.target.join(' ')).join(', ') }))
            """);
        var serious = violations.EnumerateArray().Where(v => v.GetProperty("impact").GetString() is "serious" or "critical").Select(v => v.ToString());
        Assert.Empty(serious);
    }
}
