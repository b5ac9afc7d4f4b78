using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Similarity.Bench;

/// <summary>
/// The item page as a warmed browser loads it, timed from its first request to the last byte of its 12th
/// thumbnail: the HTML, its script and style (revalidated: 304), the item, its similar items, the item's picture and
/// 12 thumbnails, over at most 6 connections as a browser opens. In the same run the floor of any request
/// (GET /health/live) and one thumbnail alone. Also writes the README's screenshot of an item page.
/// </summary>
public static class PagesBenchmark
{
    /// <summary>Milliseconds: the item page with its 12 thumbnails at p50, p95, p99; the floor and one thumbnail alone at p95.</summary>
    public sealed record Times(int Skus, double P50, double P95, double P99, double Floor, double Thumbnail);

    public static async Task<Times> MeasureAsync(Uri url, int iterations, string? screenshot)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 6 }) { BaseAddress = url };

        var skus = new List<string>();
        string? after = null;
        do
        {
            using var page = JsonDocument.Parse(await client.GetStringAsync($"/items?limit=1000{(after is null ? "" : $"&afterSku={after}")}"));
            skus.AddRange(page.RootElement.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("sku").GetString()!));
            after = page.RootElement.GetProperty("nextAfterSku").GetString();
        }
        while (after is not null && skus.Count < 5000);

        var random = new Random(7);
        var validators = new Dictionary<string, string>();
        foreach (var asset in new[] { "/item.html", "/app.css", "/app.js", "/item.js" })
            validators[asset] = (await client.GetAsync(asset)).Headers.ETag!.Tag;
        for (var i = 0; i < 100; i++)
            await LoadItemPageAsync(client, skus[random.Next(skus.Count)], validators);

        var page95 = new List<double>();
        var floor = new List<double>();
        var thumbnail = new List<double>();
        for (var i = 0; i < iterations; i++)
        {
            var sku = skus[random.Next(skus.Count)];
            page95.Add(await LoadItemPageAsync(client, sku, validators));
            floor.Add(await TimeAsync(() => client.GetByteArrayAsync("/health/live")));
            thumbnail.Add(await TimeAsync(() => client.GetByteArrayAsync($"/items/{sku}/image?size=thumb")));
        }
        if (screenshot is not null)
            await ScreenshotAsync(url, skus[0], screenshot);
        return new Times(skus.Count, Stats.Percentile(page95, 50), Stats.Percentile(page95, 95), Stats.Percentile(page95, 99),
            Stats.Percentile(floor, 95), Stats.Percentile(thumbnail, 95));
    }

    /// <summary>One item page as a browser with a warm cache loads it; its time in milliseconds.</summary>
    static async Task<double> LoadItemPageAsync(HttpClient client, string sku, Dictionary<string, string> validators)
    {
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(validators.Select(async asset =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, asset.Key);
            request.Headers.TryAddWithoutValidation("If-None-Match", asset.Value);
            using var response = await client.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.NotModified)
                throw new InvalidOperationException($"{asset.Key} answered {response.StatusCode}, not 304.");
        }));
        var similarTask = client.GetFromJsonAsync<JsonElement>($"/similar/{sku}?k=12");
        await Task.WhenAll(similarTask, client.GetByteArrayAsync($"/items/{sku}"));
        var neighbours = (await similarTask).GetProperty("results").EnumerateArray()
            .Where(r => r.GetProperty("hasImage").GetBoolean()).Select(r => r.GetProperty("sku").GetString()!).ToList();
        await Task.WhenAll(neighbours.Select(n => client.GetByteArrayAsync($"/items/{n}/image?size=thumb"))
            .Append(client.GetByteArrayAsync($"/items/{sku}/image")));
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    static async Task<double> TimeAsync(Func<Task> request)
    {
        var start = Stopwatch.GetTimestamp();
        await request();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>The item page in Debian's Chromium once its similar pictures have loaded.</summary>
    static async Task ScreenshotAsync(Uri url, string sku, string path)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Args = ["--no-sandbox", "--disable-gpu"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 1500 } });
        await page.GotoAsync(new Uri(url, $"/item.html?sku={Uri.EscapeDataString(sku)}").ToString());
        await page.WaitForFunctionAsync("""
            () => { const pictures = [...document.querySelectorAll('#similar li img')];
                    return pictures.length > 0 && pictures.every(p => p.complete && p.naturalWidth > 0); }
            """);
        await page.ScreenshotAsync(new() { Path = path });
    }
}
