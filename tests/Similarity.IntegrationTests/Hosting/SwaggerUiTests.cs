using Microsoft.Playwright;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Hosting;

/// <summary>Swagger UI in a real browser, under the Content-Security-Policy every answer carries.</summary>
public sealed class SwaggerUiTests(KestrelApp app) : IClassFixture<KestrelApp>
{
    [Fact]
    public async Task Swagger_ui_renders_and_calls_the_api_under_the_content_security_policy()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = TestPaths.Chromium,
            Headless = true,
            Args = ["--no-sandbox"], // tests run as root on the project's machines
        });
        var page = await browser.NewPageAsync();
        var refused = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                lock (refused)
                    refused.Add(message.Text);
        };

        await page.GotoAsync(new Uri(app.Address, "/swagger/index.html").ToString());
        // The operations appear only once the page's own scripts ran and fetched the OpenAPI document.
        var live = page.Locator("#operations-Health-Live");
        await live.WaitForAsync(new() { Timeout = 60_000 });
        Assert.True(await page.Locator(".opblock").CountAsync() >= 10);

        // Try it out → Execute: Swagger UI calls the API itself (connect-src) and shows the answer.
        await live.Locator(".opblock-summary").ClickAsync();
        await live.Locator("button.try-out__btn").ClickAsync();
        await live.Locator("button.execute").ClickAsync();
        await live.Locator(".live-responses-table tr.response .response-col_status").First.WaitForAsync(new() { Timeout = 60_000 });
        Assert.Equal("200", (await live.Locator(".live-responses-table tr.response .response-col_status").First.InnerTextAsync()).Trim());

        Assert.True(refused.Count == 0, string.Join("\n", refused));
    }
}
