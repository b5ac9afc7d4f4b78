using System.Text;
using Microsoft.Playwright;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Pages;

/// <summary>Swagger UI in a real browser, as a person trying the API uses it.</summary>
public sealed class SwaggerUiTests(KestrelSimilarityApp app, Browser browser) : IClassFixture<KestrelSimilarityApp>, IClassFixture<Browser>
{
    [Fact]
    public async Task Swagger_ui_renders_every_operation()
    {
        var page = await browser.NewPageAsync(app.Address);
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);

        await page.GotoAsync("/swagger/index.html");
        await page.Locator(".opblock").First.WaitForAsync();

        await Browser.ScreenshotAsync(page, "swagger-ui");
        Assert.Contains("/similar/{sku}", await page.Locator(".opblock-summary-path").AllInnerTextsAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_person_authorises_once_uploads_a_catalog_through_the_imports_form_and_runs_similar_from_the_page()
    {
        var page = await browser.NewPageAsync(app.Address);
        await page.GotoAsync("/swagger/index.html");
        await page.Locator(".opblock").First.WaitForAsync();

        // Authorise with the admin key; after a reload the page still holds it.
        await page.Locator("button.authorize").First.ClickAsync();
        await page.Locator(".modal-ux input").First.FillAsync(SimilarityApp.AdminKey);
        await page.Locator(".modal-ux button.authorize").ClickAsync();
        await page.Locator(".modal-ux button.close-modal").ClickAsync();
        await page.ReloadAsync();
        await page.Locator("button.authorize.locked").WaitForAsync();

        // POST /imports through its form: a named catalog file, a named images zip and the Idempotency-Key header.
        var catalog = Encoding.UTF8.GetBytes("sku,title,category,image\nui-1,Red enamel mug,mugs,red.png\nui-2,Red enamel cup,mugs,cup.png\nui-3,Green wool hat,hats,\n");
        var images = ImportClient.Zip(("red.png", TestImages.Noise(48, 48, seed: 1)), ("cup.png", TestImages.Noise(48, 48, seed: 2)));
        var upload = await OpenAsync(page, "Imports", "CreateImport");
        await upload.Locator("tr[data-param-name='Idempotency-Key'] input").FillAsync("swagger-ui-upload");
        await upload.Locator("tr[data-property-name='catalog'] input[type=file]").SetInputFilesAsync(
            new FilePayload { Name = "catalog.csv", MimeType = "text/csv", Buffer = catalog });
        await upload.Locator("tr[data-property-name='images'] input[type=file]").SetInputFilesAsync(
            new FilePayload { Name = "images.zip", MimeType = "application/zip", Buffer = images });
        var (status, answer) = await ExecuteAsync(upload);
        Assert.True(status == "202", answer);
        var id = System.Text.Json.JsonDocument.Parse(answer).RootElement.GetProperty("id").GetGuid();
        Assert.Equal(3, (await app.CreateAdminClient().WaitForEndAsync(id)).Counts.Inserted);

        // GET /similar/{sku} from the page answers with the catalog's own items.
        var similar = await OpenAsync(page, "Similar", "Similar");
        await similar.Locator("tr[data-param-name='sku'] input").FillAsync("ui-1");
        await similar.Locator("tr[data-param-name='k'] input").FillAsync("2");
        (status, answer) = await ExecuteAsync(similar);
        Assert.True(status == "200", answer);
        Assert.True(answer.Contains("\"ui-2\"", StringComparison.Ordinal), answer);
        await Browser.ScreenshotAsync(page, "swagger-ui-similar");
    }

    /// <summary>Expands an operation and presses "Try it out".</summary>
    static async Task<ILocator> OpenAsync(IPage page, string tag, string operationId)
    {
        var operation = page.Locator($"#operations-{tag}-{operationId}");
        await operation.Locator(".opblock-summary").ClickAsync();
        await operation.Locator("button.try-out__btn").ClickAsync();
        return operation;
    }

    /// <summary>Presses Execute and returns the status code and body of the answer the page shows.</summary>
    static async Task<(string Status, string Body)> ExecuteAsync(ILocator operation)
    {
        await operation.Locator("button.execute").ClickAsync();
        var answer = operation.Locator(".live-responses-table .response").First;
        await answer.WaitForAsync();
        return ((await answer.Locator(".response-col_status").InnerTextAsync()).Trim(),
            await answer.Locator(".response-col_description pre").First.InnerTextAsync());
    }
}
