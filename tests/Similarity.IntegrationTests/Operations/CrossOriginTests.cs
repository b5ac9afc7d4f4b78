using System.Net;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Operations;

public sealed class CrossOriginTests
{
    sealed class ShopOriginApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Cors:AllowedOrigins:0", "https://shop.example")];
    }

    sealed class BadOriginApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Cors:AllowedOrigins:0", "https://shop.example/products")];
    }

    static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/items/x1");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "PUT");
        request.Headers.Add("Access-Control-Request-Headers", "x-api-key");
        return request;
    }

    static async Task WithApp(SimilarityApp app, Func<HttpClient, Task> test)
    {
        await ((IAsyncLifetime)app).InitializeAsync();
        try
        {
            await test(app.CreateClient());
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public Task A_configured_origin_may_call_the_api_from_a_browser_and_others_may_not() => WithApp(new ShopOriginApp(), async client =>
    {
        var allowed = await client.SendAsync(Preflight("https://shop.example"));
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal("https://shop.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("x-api-key", allowed.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);

        var other = await client.SendAsync(Preflight("https://evil.example"));
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));

        using var get = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        get.Headers.Add("Origin", "https://shop.example");
        Assert.Equal("https://shop.example", (await client.SendAsync(get)).Headers.GetValues("Access-Control-Allow-Origin").Single());
    });

    [Fact]
    public Task By_default_no_origin_is_allowed() => WithApp(new SimilarityApp(), async client =>
    {
        var response = await client.SendAsync(Preflight("https://shop.example"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    });

    [Fact]
    public async Task An_origin_with_a_path_stops_the_start_naming_the_setting()
    {
        await using var app = new BadOriginApp();
        await ((IAsyncLifetime)app).InitializeAsync();
        try
        {
            Assert.Contains("Similarity:Cors:AllowedOrigins", app.StartFailure(), StringComparison.Ordinal);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
