using System.Net;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.IntegrationTests.Keys;
using static Similarity.IntegrationTests.Feedback.EventsClient;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>A low bot threshold, so a handful of events flags a visitor.</summary>
public sealed class BotThresholdApp : SimilarityApp
{
    public const int PerMinute = 5;

    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Feedback:BotEventsPerMinute", $"{PerMinute}")];
}

/// <summary>DELETE /visitors/{visitorId} leaves no row of the visitor; bot flags are set past the configured rate.</summary>
public sealed class VisitorErasureTests(BotThresholdApp app) : IClassFixture<BotThresholdApp>
{

    async Task<long> RowsOfAsync(string visitor) =>
        await app.Database.CountAsync("SELECT count(*) FROM events WHERE visitor_id = $1", visitor)
        + await app.Database.CountAsync("SELECT count(*) FROM served_lists WHERE visitor_id = $1", visitor)
        + await app.Database.CountAsync("SELECT count(*) FROM bot_visitors WHERE visitor_id = $1", visitor)
        + await app.Database.CountAsync("SELECT count(*) FROM event_ids WHERE event_id LIKE $1", visitor + "-%");

    async Task ServeAsync(string visitor) => await app.Database.ExecuteAsync("""
        INSERT INTO served_lists (request_id, served_at, endpoint, visitor_id, fingerprint, skus, scores)
        VALUES (gen_random_uuid(), now(), 'similar', $1, 'f', ARRAY['a'], ARRAY[0.5]::real[])
        """, visitor);

    [Fact]
    public async Task A_visitor_over_the_rate_is_flagged_and_kept_and_one_under_it_is_not()
    {
        var client = app.CreateAdminClient();
        await client.PostEventsAsync(Enumerable.Range(0, BotThresholdApp.PerMinute + 1).Select(i => Event($"v-fast-{i}", "v-fast")));
        await client.PostEventsAsync(Enumerable.Range(0, BotThresholdApp.PerMinute).Select(i => Event($"v-calm-{i}", "v-calm")));

        Assert.Equal(1, await app.Database.CountAsync("SELECT count(*) FROM bot_visitors WHERE visitor_id = 'v-fast'"));
        Assert.Equal(0, await app.Database.CountAsync("SELECT count(*) FROM bot_visitors WHERE visitor_id = 'v-calm'"));
        Assert.Equal(BotThresholdApp.PerMinute + 1, await app.Database.CountAsync("SELECT count(*) FROM events WHERE visitor_id = 'v-fast'"));
    }

    [Fact]
    public async Task Erasing_a_visitor_leaves_no_row_of_theirs_and_answers_the_counts()
    {
        var client = app.CreateAdminClient();
        await client.PostEventsAsync(Enumerable.Range(0, BotThresholdApp.PerMinute + 2).Select(i => Event($"v-gone-{i}", "v-gone")));
        await client.PostEventsAsync(Event("v-stays-0", "v-stays"));
        await ServeAsync("v-gone");
        await ServeAsync("v-gone");
        await ServeAsync("v-stays");
        Assert.True(await RowsOfAsync("v-gone") > 0);

        var response = await client.DeleteAsync("/visitors/v-gone");
        var body = Json(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((BotThresholdApp.PerMinute + 2, 2, 1),
            (body.GetProperty("events").GetInt32(), body.GetProperty("servedLists").GetInt32(), body.GetProperty("botFlags").GetInt32()));
        Assert.Equal(0, await RowsOfAsync("v-gone"));
        Assert.Equal(3, await RowsOfAsync("v-stays")); // its event, its id, its served list
    }

    [Fact]
    public async Task Erasing_needs_an_admin_key()
    {
        var key = await app.CreateKeyAsync("shop-backend", "storefront");

        var storefront = await app.ClientWithKey(key.Secret).DeleteAsync("/visitors/v-anyone");
        var none = await app.CreateClient().DeleteAsync("/visitors/v-anyone");

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Unauthorized), (storefront.StatusCode, none.StatusCode));
    }
}
