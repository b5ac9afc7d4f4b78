using System.Text.Json;
using Microsoft.Playwright;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.IntegrationTests.Pages;

namespace Similarity.IntegrationTests.Insight;

/// <summary>The duplicates and clusters pages and the item page's picture–text section, in a real browser over the insight catalog.</summary>
public sealed class InsightPagesTests(InsightCatalog catalog, Browser browser) : IClassFixture<InsightCatalog>, IClassFixture<Browser>
{
    readonly List<string> _pageErrors = [];

    /// <summary>A page at <paramref name="path"/> with the admin key already in the tab (as after the key form), errors kept.</summary>
    async Task<IPage> OpenAsync(string path, bool withKey = true, int width = 1280)
    {
        var page = await browser.NewPageAsync(catalog.Address, width);
        page.PageError += (_, error) => _pageErrors.Add(error);
        page.Response += (_, response) => { if (response.Status >= 400) _pageErrors.Add($"{response.Status} {response.Url}"); };
        if (withKey)
            await page.AddInitScriptAsync($"sessionStorage.setItem('similarity.adminKey', {JsonSerializer.Serialize(SimilarityApp.AdminKey)})");
        await page.GotoAsync(path);
        return page;
    }

    async Task CloseAsync(IPage page)
    {
        await page.CloseAsync();
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task The_duplicates_page_asks_for_the_key_then_shows_each_copy_beside_its_original_with_the_price_marked()
    {
        var page = await OpenAsync("/duplicates.html", withKey: false);
        Assert.True(await page.Locator("#key-form").IsVisibleAsync());
        await page.Locator("#key").FillAsync(SimilarityApp.AdminKey);
        await page.Locator("#key-form button[type=submit]").ClickAsync();
        await page.Locator(".dup-group").First.WaitForAsync();

        foreach (var (sku, of, _) in catalog.Planted)
        {
            var group = page.Locator(".dup-group", new() { Has = page.Locator($"li[data-sku='{sku}']") });
            Assert.Equal(new[] { of, sku }.Order(StringComparer.Ordinal), (await group.Locator("li[data-sku]").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.sku)")).Order(StringComparer.Ordinal));
            Assert.Equal(2, await group.Locator("mark").CountAsync()); // the two prices, marked; the equal titles not
        }
        await PagesTests.AssertNoSeriousViolationsAsync(page);
        await Browser.ScreenshotAsync(page, "page-duplicates");
        await CloseAsync(page);
    }

    [Fact]
    public async Task The_clusters_page_shows_every_cluster_as_a_strip_of_its_central_pictures_and_pages_its_members()
    {
        var client = catalog.CreateAdminClient();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((await client.GetStringAsync("/clusters")).Contains("\"computedAt\":null", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "no clustering within 2 minutes");
            await Task.Delay(50);
        }
        var page = await OpenAsync("/clusters.html");
        await page.Locator("section.cluster").First.WaitForAsync();
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.strip img')].every(p => p.complete && p.naturalWidth > 0)");

        var clusters = await page.Locator("section.cluster").CountAsync();
        Assert.Contains($"{clusters} clusters of", await page.Locator("#state").InnerTextAsync());
        await page.Locator("section.cluster").First.Locator("button").ClickAsync();
        await page.Locator("#members li").First.WaitForAsync();
        var size = await page.Locator("#members-heading").InnerTextAsync();
        Assert.EndsWith($"({await page.Locator("#members li").CountAsync()})", size);
        await PagesTests.AssertNoSeriousViolationsAsync(page);
        await Browser.ScreenshotAsync(page, "page-clusters");
        await CloseAsync(page);
    }

    [Fact]
    public async Task The_item_page_tells_an_admin_that_a_swapped_picture_does_not_match_and_what_it_resembles()
    {
        var page = await OpenAsync($"/item.html?sku={InsightCatalog.Swapped}");
        await page.Locator("#mismatch").WaitForAsync();

        Assert.Equal("true", await page.Locator("#mismatch").GetAttributeAsync("data-likely"));
        var resembles = await page.Locator("#resembles li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.sku)");
        Assert.Equal(catalog.SwappedPictureOf, resembles[0]); // the drawing whose picture it carries
        await PagesTests.AssertNoSeriousViolationsAsync(page);
        await Browser.ScreenshotAsync(page, "page-item-mismatch");
        await CloseAsync(page);

        var shopper = await OpenAsync($"/item.html?sku={InsightCatalog.Swapped}", withKey: false);
        await shopper.Locator("#similar li").First.WaitForAsync();
        Assert.True(await shopper.Locator("#mismatch").IsHiddenAsync()); // a shopper never sees the check
        await CloseAsync(shopper);
    }
}
