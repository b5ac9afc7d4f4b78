using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Similarity.Feedback;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>GET /feedback/stats over served lists and events written by SQL, with every rate worked by hand.</summary>
public sealed class FeedbackStatsTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task Rates_by_position_day_and_side_count_the_clicks_and_carts_on_each_shown_result()
    {
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var now = DateTimeOffset.UtcNow;
        var yesterday = now.AddDays(-1);
        // Yesterday, 3 shown: clicks at 1 and 3, an add to cart at 1.
        var y1 = await db.ServeAsync(3, at: yesterday);
        await db.EngageAsync(y1, 1, at: yesterday); await db.EngageAsync(y1, 3, at: yesterday); await db.EngageAsync(y1, 1, "addToCart", at: yesterday);
        // Today, 3 shown: a click at 2, and a bot's click at 1 (left out).
        var t1 = await db.ServeAsync(3);
        await db.EngageAsync(t1, 2);
        await db.FlagBotAsync("stats-bot");
        await db.EngageAsync(t1, 1, visitor: "stats-bot");
        // Today, interleaved A B A: clicks at 1 (A) and 2 (B), an add to cart at 2 (B).
        var t2 = await db.ServeAsync(3, "stats-exp", "ABA");
        await db.EngageAsync(t2, 1); await db.EngageAsync(t2, 2); await db.EngageAsync(t2, 2, "addToCart");
        // Today, a batch: two lists of 2 under one request id; the click at 1 came from the second (its source item).
        var batch = await db.ServeAsync(2, querySku: "batch-1");
        await using (var second = db.CreateCommand(
            "INSERT INTO served_lists (request_id, served_at, endpoint, query_sku, fingerprint, skus, scores) VALUES ($1, now(), 'batch', 'batch-2', 'f', '{x,y}', '{0.9,0.8}')"))
        {
            second.Parameters.Add(new() { Value = batch });
            await second.ExecuteNonQueryAsync();
        }
        await db.EngageAsync(batch, 1, sourceSku: "batch-2");
        // Twenty days ago: outside the 14 days.
        await db.EngageAsync(await db.ServeAsync(3, at: now.AddDays(-20)), 1, at: now.AddDays(-20));

        var stats = (await app.CreateAdminClient().GetFromJsonAsync<FeedbackStatsApi.StatsResponse>("/feedback/stats?days=14"))!;

        Assert.Equal(14, stats.Days);
        Assert.Equal(new DateTimeOffset(now.UtcDateTime.Date.AddDays(-13), TimeSpan.Zero), stats.Since);
        // Position 1 is shown in 5 lists (y1, t1, t2, both batch lists), clicked in y1, t2 and batch-2; carted in y1.
        Assert.Equal([(1, 5L, 3L, 1L, 0.6), (2, 5L, 2L, 1L, 0.4), (3, 3L, 1L, 0L, 1 / 3.0)],
            stats.ByPosition.Select(p => (p.Position, p.Impressions, p.Clicks, p.AddsToCart, p.Ctr)));
        Assert.Equal([0.2, 0.2, 0.0], stats.ByPosition.Select(p => p.AddToCartRate));
        Assert.Equal([(DateOnly.FromDateTime(yesterday.UtcDateTime), 3L, 2L, 1L), (DateOnly.FromDateTime(now.UtcDateTime), 10L, 4L, 1L)],
            stats.ByDay.Select(d => (d.Day, d.Impressions, d.Clicks, d.AddsToCart)));
        Assert.Equal([("stats-exp", "control", 2L, 1L, 0L, 0.5), ("stats-exp", "treatment", 1L, 1L, 1L, 1.0)],
            stats.ByArm.Select(a => (a.Experiment, a.Arm, a.Impressions, a.Clicks, a.AddsToCart, a.Ctr)));

        var firstTwo = (await app.CreateAdminClient().GetFromJsonAsync<FeedbackStatsApi.StatsResponse>("/feedback/stats?positions=2"))!;
        Assert.Equal([1, 2], firstTwo.ByPosition.Select(p => p.Position));
    }

    [Theory]
    [InlineData("?days=0", "days")]
    [InlineData("?days=91", "days")]
    [InlineData("?positions=0", "positions")]
    [InlineData("?positions=101", "positions")]
    public async Task Out_of_range_days_or_positions_are_a_validation_problem_naming_them(string query, string field) =>
        await CatalogClient.AssertNamesFieldAsync(await app.CreateAdminClient().GetAsync($"/feedback/stats{query}"), field);

    [Fact]
    public async Task The_stats_need_the_admin_key() =>
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().GetAsync("/feedback/stats")).StatusCode);
}
