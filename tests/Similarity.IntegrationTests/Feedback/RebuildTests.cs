using System.Net;
using System.Text.Json;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;
using static Similarity.IntegrationTests.Feedback.CoEngagementScript;

namespace Similarity.IntegrationTests.Feedback;

/// <summary>The service with a rebuild every second, so the duty itself is seen to run, fail and recover.</summary>
public sealed class RebuildingApp : SimilarityApp
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Similarity:Feedback:RebuildPeriod", "00:00:01"), new("Similarity:Feedback:ExploreShare", "0")];
}

/// <summary>The rebuild duty: supervised (a failure shows in /health/ready and the loop goes on) and run by one instance at a time.</summary>
public sealed class RebuildTests(RebuildingApp app) : IClassFixture<RebuildingApp>
{
    /// <summary>The rebuild's advisory lock key, as another instance would hold it.</summary>
    const long LockKey = 0x46454544424B;

    async Task<string?> StatusAsync() =>
        JsonElement.Parse(await app.CreateClient().GetStringAsync("/health/ready"))
            .GetProperty("entries").GetProperty("feedbackRebuild").GetProperty("status").GetString();

    async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} within 60 s");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task The_duty_shows_a_failed_rebuild_in_health_and_recovers_by_itself()
    {
        await WaitForAsync(async () => await StatusAsync() == "Healthy", "the rebuild was healthy");
        await app.Database.ExecuteAsync("ALTER TABLE co_engagement RENAME TO co_engagement_away");
        await WaitForAsync(async () => await StatusAsync() == "Degraded", "a failed rebuild showed as Degraded");

        await InsertEventsAsync(app.Database, EngagedTogether("heal", "hl-a", "hl-b"));
        await app.Database.ExecuteAsync("ALTER TABLE co_engagement_away RENAME TO co_engagement");

        // No POST: the duty's next period rebuilds, learns the pair and is healthy again.
        await WaitForAsync(async () => await PairAsync(app.Database, "hl-a", "hl-b") is not null, "the duty learned the pair");
        await WaitForAsync(async () => await StatusAsync() == "Healthy", "the rebuild was healthy again");
    }

    [Fact]
    public async Task A_rebuild_is_skipped_while_another_instance_holds_the_lock()
    {
        await using (var otherInstance = await app.Database.OpenAsync())
        {
            await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", otherInstance))
                await take.ExecuteNonQueryAsync();

            var refused = await app.CreateAdminClient().PostAsync("/feedback/rebuild", null);

            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            // Released on this session: a pooled connection would keep a session lock until its next use.
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", otherInstance);
            await release.ExecuteNonQueryAsync();
        }
        // The duty of this app rebuilds every second, so a POST may meet its lock for a moment: asked until one runs.
        JsonElement rebuilt = default;
        await WaitForAsync(async () =>
        {
            var response = await app.CreateAdminClient().PostAsync("/feedback/rebuild", null);
            if (response.StatusCode == HttpStatusCode.Conflict)
                return false;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            rebuilt = JsonElement.Parse(await response.Content.ReadAsStringAsync());
            return true;
        }, "a rebuild once the other instance let the lock go");
        Assert.True(rebuilt.GetProperty("ran").GetBoolean());
    }
}
