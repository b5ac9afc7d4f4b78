using System.Net;
using Microsoft.Extensions.Logging;
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
            var body = await down.Content.ReadAsStringAsync();
            Assert.Contains("Unhealthy", body, StringComparison.Ordinal);
            // Public: the database's own words (its address, its message) go to the log only.
            var database = System.Text.Json.JsonElement.Parse(body).GetProperty("entries").GetProperty("database");
            Assert.Equal("The database is not reachable.", database.GetProperty("description").GetString());
            Assert.False(database.TryGetProperty("error", out _));
            Assert.DoesNotContain("accepting connections", body, StringComparison.Ordinal);
            Assert.DoesNotContain(app.Database.Name, body, StringComparison.Ordinal);
            Assert.Contains(app.Logs.Entries, e => e.Level >= LogLevel.Warning && e.Exception is Npgsql.PostgresException);
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
