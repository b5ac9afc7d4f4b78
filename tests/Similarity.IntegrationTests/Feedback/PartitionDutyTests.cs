using Microsoft.Extensions.DependencyInjection;
using Similarity.Feedback;
using Similarity.IntegrationTests.Infrastructure;
using static Similarity.IntegrationTests.Feedback.EventsClient;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>The partition duty, driven directly with the dates it should act as of.</summary>
public sealed class PartitionDutyTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);

    /// <summary>One pass as of <paramref name="today"/>; the duty's own pass at start may hold the lock a moment.</summary>
    async Task<PartitionPass> PassAsync(DateOnly today)
    {
        var duty = app.Services.GetRequiredService<PartitionDuty>();
        PartitionPass? pass = null;
        await WaitForAsync(async () => (pass = await duty.RunOnceAsync(today, CancellationToken.None)).Ran, "a partition pass");
        return pass!;
    }

    async Task<bool> ExistsAsync(string table) => await app.Database.CountAsync("SELECT count(*) FROM pg_class WHERE relname = $1", table) == 1;

    [Fact]
    public async Task Today_and_the_next_days_have_partitions_of_both_tables()
    {
        await PassAsync(Today);

        foreach (var day in Enumerable.Range(0, 4).Select(Today.AddDays))
        {
            Assert.True(await ExistsAsync($"served_lists_{day:yyyyMMdd}"), $"served_lists_{day:yyyyMMdd}");
            Assert.True(await ExistsAsync($"events_{day:yyyyMMdd}"), $"events_{day:yyyyMMdd}");
        }
        Assert.Equal(1, await app.Database.CountAsync(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname = $1", $"events_{Today:yyyyMMdd}"));
    }

    [Fact]
    public async Task An_expired_day_is_dropped_whole_and_a_kept_one_stays()
    {
        // 40 days back: past the served lists' 30 days, within the events' 90.
        var old = Today.AddDays(-40);
        await PassAsync(old);
        await app.Database.ExecuteAsync($"""
            INSERT INTO served_lists (request_id, served_at, endpoint, fingerprint, skus, scores)
            VALUES (gen_random_uuid(), '{old:yyyy-MM-dd} 12:00:00+00', 'similar', 'f', ARRAY['a'], ARRAY[0.5]::real[])
            """);

        var pass = await PassAsync(Today);

        Assert.Contains($"served_lists_{old:yyyyMMdd}", pass.Dropped);
        Assert.False(await ExistsAsync($"served_lists_{old:yyyyMMdd}"));
        Assert.True(await ExistsAsync($"events_{old:yyyyMMdd}"));
        Assert.Equal(0, await app.Database.CountAsync($"SELECT count(*) FROM served_lists WHERE served_at < '{old.AddDays(1):yyyy-MM-dd}'"));
    }

    [Fact]
    public async Task Rows_that_landed_in_the_default_partition_move_into_their_day()
    {
        var later = Today.AddDays(20);
        await PassAsync(Today); // the service started, its schema migrated
        await app.Database.ExecuteAsync($"""
            INSERT INTO events (event_id, type, visitor_id, sku, occurred_at)
            VALUES ('stranded', 'view', 'v-stranded', 'sku-1', '{later:yyyy-MM-dd} 08:00:00+00')
            """);
        Assert.Equal(1, await app.Database.CountAsync("SELECT count(*) FROM events_default WHERE event_id = 'stranded'"));

        var pass = await PassAsync(Today);

        Assert.Contains($"events_{later:yyyyMMdd}", pass.Created);
        Assert.Equal(0, await app.Database.CountAsync("SELECT count(*) FROM events_default"));
        Assert.Equal(1, await app.Database.CountAsync($"SELECT count(*) FROM events_{later:yyyyMMdd} WHERE event_id = 'stranded'"));
    }

    [Fact]
    public async Task The_duty_shows_in_health_ready()
    {
        var health = Json(await app.CreateClient().GetStringAsync("/health/ready"));

        Assert.Equal("Healthy", health.GetProperty("entries").GetProperty("feedbackPartitions").GetProperty("status").GetString());
    }
}
