using System.Net.Http.Json;
using System.Text;
using Microsoft.Playwright;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Pages;

/// <summary>
/// The imports page does what POST /imports takes: a format, a mapping of the file's own columns (previewed in the
/// browser), what becomes of a row whose picture fails, an idempotency key; its panels, recent jobs and CSV download.
/// </summary>
public sealed class ImportsPageTests(KestrelSimilarityApp app, Browser browser) : IClassFixture<KestrelSimilarityApp>, IClassFixture<Browser>
{
    readonly List<string> _pageErrors = [];

    /// <summary>The imports page with the admin key entered; 4xx answers are the tests' own business here.</summary>
    async Task<IPage> OpenAsync()
    {
        var page = await browser.NewPageAsync(app.Address);
        page.PageError += (_, error) => _pageErrors.Add(error);
        await page.GotoAsync("/imports.html");
        await page.Locator("#key").FillAsync(SimilarityApp.AdminKey);
        await page.Locator("#key-form button[type=submit]").ClickAsync();
        return page;
    }

    static FilePayload Csv(string name, string text) => new() { Name = name, MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(text) };

    [Fact]
    public async Task A_mapped_csv_shows_its_columns_and_imports_with_warnings_counted_apart_from_errors()
    {
        var page = await OpenAsync();
        Assert.False(await page.Locator("#mapping").IsVisibleAsync());
        await page.Locator("#format").SelectOptionAsync("mapped");
        await page.Locator("#catalog").SetInputFilesAsync(Csv("eigene.csv",
            "Artikelnummer;Bezeichnung;Preis;Bild\npage-m1;Becher;4.50;http://10.0.0.1/becher.png\npage-m2;Teller;4.50;\npage-m3;;4.50;\n"));

        await page.Locator("#columns").GetByText("Artikelnummer, Bezeichnung, Preis, Bild").WaitForAsync();
        await page.Locator("#map-sku").SelectOptionAsync("Artikelnummer");
        await page.Locator("#map-title").SelectOptionAsync("Bezeichnung");
        await page.Locator("#map-price").SelectOptionAsync("Preis");
        await page.Locator("#map-imageUrl").SelectOptionAsync("Bild");
        await page.Locator("#missing-image").SelectOptionAsync("textOnly");
        await page.Locator("#idempotency-key").FillAsync("page-mapped-1");
        await PagesTests.AssertNoSeriousViolationsAsync(page); // the form with its mapping open
        await page.Locator("#upload button[type=submit]").ClickAsync();

        await page.Locator("#errors tbody tr").Nth(1).WaitForAsync(new() { Timeout = 120_000 });
        var summary = await page.Locator("#job-summary").InnerTextAsync();
        Assert.Contains("2 new", summary, StringComparison.Ordinal);
        Assert.Contains("1 row error", summary, StringComparison.Ordinal);
        Assert.Contains("1 row stored with a warning", summary, StringComparison.Ordinal);
        Assert.Equal(["yes", "no"], await page.Locator("#errors tbody tr td:nth-child(6)").AllInnerTextsAsync());
        var recent = page.Locator("#recent tr").First;
        await recent.GetByText("eigene.csv").WaitForAsync();
        Assert.Equal(["eigene.csv", "mapped"], (await recent.Locator("td").AllInnerTextsAsync()).Skip(1).Take(2));

        // The same key and file again: the same job, not a second one.
        await page.Locator("#upload button[type=submit]").ClickAsync();
        await page.Locator("#job-summary").GetByText("succeeded with errors").WaitForAsync();
        var jobs = await app.CreateAdminClient().GetFromJsonAsync<List<ImportsApi.JobResponse>>("/imports?limit=1000");
        Assert.Single(jobs!, j => j.FileName == "eigene.csv");
        await PagesTests.AssertNoSeriousViolationsAsync(page);
        await page.CloseAsync();
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task A_refused_upload_clears_the_previous_jobs_panel_and_says_why()
    {
        var page = await OpenAsync();
        await page.Locator("#catalog").SetInputFilesAsync(Csv("good.csv", "sku,title\npage-r1,Cup\n"));
        await page.Locator("#upload button[type=submit]").ClickAsync();
        await page.Locator("#status").GetByText("The import succeeded.").WaitForAsync(new() { Timeout = 120_000 });
        Assert.True(await page.Locator("#job").IsVisibleAsync());

        await page.Locator("#format").SelectOptionAsync("shopify");
        await page.Locator("#catalog").SetInputFilesAsync(Csv("not-shopify.csv", "sku,title\npage-r2,Cup\n"));
        await page.Locator("#upload button[type=submit]").ClickAsync();

        await page.Locator("#status.error").WaitForAsync();
        Assert.False(await page.Locator("#job").IsVisibleAsync());
        Assert.Equal("", await page.Locator("#job-summary").InnerTextAsync());
        await page.CloseAsync();
        Assert.Empty(_pageErrors);
    }

    [Fact]
    public async Task The_row_error_download_holds_every_row_error_not_the_first_thousand()
    {
        const int Bad = 1_205;
        var csv = new StringBuilder("sku,title,price\n");
        for (var i = 0; i < Bad; i++)
            csv.Append($"page-bad-{i},Broken price {i},\"2;50\"\n");
        var page = await OpenAsync();
        await page.Locator("#catalog").SetInputFilesAsync(Csv("many-errors.csv", csv.ToString()));
        await page.Locator("#upload button[type=submit]").ClickAsync();
        await page.Locator("#errors-csv").WaitForAsync(new() { Timeout = 120_000 });

        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#errors-csv").ClickAsync());
        var path = await download.PathAsync();

        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal("row,line,sku,columns,reason,stored", lines[0]);
        Assert.Equal(Bad + 1, lines.Length);
        Assert.StartsWith($"{Bad},{Bad + 1},page-bad-{Bad - 1},", lines[^1], StringComparison.Ordinal);
        await page.CloseAsync();
        Assert.Empty(_pageErrors);
    }
}
