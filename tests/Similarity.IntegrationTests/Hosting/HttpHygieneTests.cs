using System.Net;
using Similarity.Hosting;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Hosting;

/// <summary>What every answer of the real server carries, and does not.</summary>
public sealed class HttpHygieneTests(KestrelSimilarityApp app) : IClassFixture<KestrelSimilarityApp>
{
    [Theory]
    [InlineData("GET", "/health/live", HttpStatusCode.OK)]
    [InlineData("GET", "/no/such/route", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/items/sku-1", HttpStatusCode.Unauthorized)]
    [InlineData("GET", "/similar/bad%20sku", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/swagger/index.html", HttpStatusCode.OK)]
    public async Task Every_answer_has_the_security_headers_and_no_server_header(string method, string path, HttpStatusCode status)
    {
        using var client = new HttpClient { BaseAddress = app.Address };
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(status, response.StatusCode);
        Assert.False(response.Headers.Contains("Server"), "the Server header names the server");
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
    }
}
