using System.Net;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Foundation;

// A class of its own: it takes its database offline, which no other test may see.
public sealed class ReadinessTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task Ready_turns_unhealthy_while_the_database_is_down_and_healthy_when_it_returns()
    {
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        await app.Database.TakeOfflineAsync();
        try
        {
            var down = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.Contains("Unhealthy", await down.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            await app.Database.BringOnlineAsync();
        }

        // The first attempt after the outage may still draw a pooled connection that the outage killed.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3 && statuses.LastOrDefault() != HttpStatusCode.OK; i++)
            statuses.Add((await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, statuses[^1]);
    }
}
