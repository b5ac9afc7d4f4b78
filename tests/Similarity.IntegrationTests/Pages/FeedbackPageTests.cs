using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using Similarity.IntegrationTests.Feedback;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Pages;

/// <summary>
/// The feedback page charts what shoppers did with the served lists (rows and events written by SQL, rates worked by
/// hand) and lists the experiments; the item page shows "Often engaged with" from the co-engagement.
/// </summary>
public sealed class FeedbackPageTests(FeedbackPageTests.ShopApp app, Browser browser) : IClassFixture<FeedbackPageTests.ShopApp>, IClassFixture<Browser>
{
    /// <summary>Four items with pictures, served lists with clicks, one experiment, and co-engagement of the first item.</summary>
    public sealed class ShopApp : KestrelSimilarityApp
    {
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            var admin = CreateAdminClient();
            foreach (var i in Enumerable.Range(0, 4))
                await admin.PutItemAsync(new TestItem($"fp-{i}", $"Feedback item {i}", Image: TestImages.Noise(48, 48, seed: 70 + i)));
            var started = await admin.PutAsync("/experiments/page-test", new StringContent(
                """{"control": {"blend": 0}, "treatment": {"blend": 0.5}, "share": 0.2}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, started.StatusCode);

            var db = Services.GetRequiredService<NpgsqlDataSource>();
            // Position 1 shown 4 times, clicked twice and carted once; position 2 shown 4 times, clicked once.
            var plain = await db.ServeAsync(2);
            await db.EngageAsync(plain, 1); await db.EngageAsync(plain, 1, "addToCart");
            await db.ServeAsync(2);
            // Interleaved A B: a click at 2 (B) wins one answer for the treatment; a click at 1 (A) the other for control.
            var won = await db.ServeAsync(2, "page-test", "AB");
            await db.EngageAsync(won, 2);
            var lost = await db.ServeAsync(2, "page-test", "AB");
            await db.EngageAsync(lost, 1);
            await using var pairs = db.CreateCommand("""
                INSERT INTO co_engagement (sku, other_sku, weight, visitors, score)
                VALUES ('fp-0', 'fp-2', 9, 5, 0.9), ('fp-0', 'fp-3', 4, 3, 0.4), ('fp-2', 'fp-0', 9, 5, 0.9)
                """);
            await pairs.ExecuteNonQueryAsync();
        }
    }

    readonly List<string> _pageErrors = [];

    async Task<IPage> OpenAsync(string path, bool withKey)
    {
        var page = await browser.NewPageAsync(app.Address);
        page.PageError += (_, error) => _pageErrors.Add(error);
        page.Response += (_, response) => { if (response.Status >= 400) _pageErrors.Add($"{response.Status} {response.Url}"); };
        await page.GotoAsync(path);
        if (withKey)
        {
            await page.Locator("#key").FillAsync(SimilarityApp.AdminKey);
            await page.Locator("#key-form button[type=submit]").ClickAsync();
        }
        return page;
    }

    static Task<IReadOnlyList<string>> BarTitlesAsync(IPage page, string chart) =>
        page.Locator($"#{chart} rect title").AllTextContentsAsync();

    [Fact]
    public async Task The_page_charts_rates_by_position_day_and_side_and_lists_the_experiment_with_its_wins()
    {
        var page = await OpenAsync("/feedback.html", withKey: true);
        await page.Locator("#experiments tbody tr").First.WaitForAsync();

        Assert.Equal(["position 1: click-through 50.0% (2 of 4 shown)", "position 1: add to cart 25.0% (1 of 4 shown)",
            "position 2: click-through 25.0% (1 of 4 shown)", "position 2: add to cart 0.0% (0 of 4 shown)"], await BarTitlesAsync(page, "by-position"));
        var today = DateTime.UtcNow.ToString("MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"{today}: click-through 37.5% (3 of 8 shown)", (await BarTitlesAsync(page, "by-day"))[0]);
        Assert.Equal(["page-test control: click-through 50.0% (1 of 2 shown)", "page-test treatment: click-through 50.0% (1 of 2 shown)"],
            (await BarTitlesAsync(page, "by-arm")).Where(t => t.Contains("click-through", StringComparison.Ordinal)));
        Assert.Equal(["page-test", "running", "20.0%", "2", "1 · 1", "1 · 1", "50.0% (9.5%–90.5%)", "undecided"],
            await page.Locator("#experiments tbody tr[data-name='page-test'] > *").AllInnerTextsAsync());
        Assert.Equal("Click-through and add-to-cart rate by position, last 14 days", await page.Locator("#by-position svg > title").TextContentAsync());
        await PagesTests.AssertNoSeriousViolationsAsync(page);
        await Browser.ScreenshotAsync(page, "page-feedback");

        await page.Locator("#forget").ClickAsync();
        Assert.True(await page.Locator("#key-form").IsVisibleAsync());
        await page.CloseAsync();
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task The_item_page_shows_the_items_often_engaged_with_it_strongest_first()
    {
        var page = await OpenAsync("/item.html?sku=fp-0", withKey: false);
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#engaged li').length === 2");

        Assert.Equal(["fp-2", "fp-3"], await page.Locator("#engaged li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.sku)"));
        Assert.Equal("score 0.900 · 5 shoppers engaged with both", await page.Locator("#engaged li[data-sku='fp-2'] .meta").Last.TextContentAsync());
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#engaged img')].every(p => p.complete && p.naturalWidth > 0)");
        await PagesTests.AssertNoSeriousViolationsAsync(page);
        await page.CloseAsync();
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task An_item_nobody_engaged_with_says_so_in_its_strip()
    {
        var page = await OpenAsync("/item.html?sku=fp-1", withKey: false);
        await page.Locator("#engaged-status").GetByText("No shoppers have engaged with this item together with others yet.").WaitForAsync();

        Assert.Equal(0, await page.Locator("#engaged li").CountAsync());
        await page.CloseAsync();
        Assert.Empty(_pageErrors);
    }
}
