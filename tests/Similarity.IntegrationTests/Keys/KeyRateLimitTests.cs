using System.Globalization;
using System.Net;
using Similarity.Hosting;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Keys;

/// <summary>
/// An address's bucket of two that does not refill while the test runs, and the service's own default bucket for a key
/// (the base app lifts every limit; this one puts the key's defaults back).
/// </summary>
public sealed class KeyLimitsApp : SimilarityApp
{
    static readonly RateLimitOptions Defaults = new();

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Similarity:RateLimits:PerClientBurst", "2"),
        new("Similarity:RateLimits:PerClientPerSecond", "1"),
        new("Similarity:RateLimits:PerClientRefillSeconds", "3600"),
        new("Similarity:RateLimits:PerKeyBurst", Defaults.PerKeyBurst.ToString(CultureInfo.InvariantCulture)),
        new("Similarity:RateLimits:PerKeyPerSecond", Defaults.PerKeyPerSecond.ToString(CultureInfo.InvariantCulture)),
    ];
}

/// <summary>Each key draws from its own bucket, an anonymous request from its address's.</summary>
public sealed class KeyRateLimitTests(KeyLimitsApp app) : IClassFixture<KeyLimitsApp>
{
    [Fact]
    public async Task A_storefront_key_is_not_throttled_at_a_rate_that_throttles_an_anonymous_address()
    {
        var key = await app.CreateKeyAsync("whole-shop", "storefront");
        var keyed = app.ClientWithKey(key.Secret);
        var anonymous = app.CreateClient();

        var withKey = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => keyed.PostAsync("/embed", EmbedClient.Form(text: $"scarf {i}"))));
        var withoutKey = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => anonymous.PostAsync("/embed", EmbedClient.Form(text: $"hat {i}"))));

        Assert.All(withKey, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(new RateLimitOptions().PerKeyBurst, key.Burst);
        Assert.Equal(2, withoutKey.Count(a => a.StatusCode == HttpStatusCode.OK));
    }

    [Fact]
    public async Task A_key_created_with_its_own_limits_is_held_to_them_and_told_so()
    {
        var key = await app.CreateKeyAsync("small-bucket", "storefront", perSecond: 1, burst: 3);
        var other = await app.CreateKeyAsync("other-bucket", "storefront", perSecond: 1, burst: 3);
        var client = app.ClientWithKey(key.Secret);

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => client.PostAsync("/embed", EmbedClient.Form(text: $"mug {i}"))));

        Assert.Equal(3, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        var refused = answers.First(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(refused.Headers.Contains("Retry-After"));
        var problem = await KeyClient.ProblemAsync(refused);
        Assert.Equal("Too many encoder requests with this API key.", problem.GetProperty("title").GetString());
        Assert.Contains("small-bucket", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // Another key's bucket is its own.
        Assert.Equal(HttpStatusCode.OK, (await app.ClientWithKey(other.Secret).PostAsync("/embed", EmbedClient.Form(text: "mug"))).StatusCode);
    }
}
