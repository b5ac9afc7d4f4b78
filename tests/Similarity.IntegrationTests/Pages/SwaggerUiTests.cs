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
}
