using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using Similarity.Database;
using Similarity.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Similarity.IntegrationTests.Replicas;

/// <summary>
/// Reads on a real hot standby: the storefront's reads go to it, a write's token brings its reader the write, an admin
/// never reads the past, and a standby that falls behind is left out until it catches up. Replay is paused on the
/// standby (<c>pg_wal_replay_pause</c>) to make "behind" certain rather than a race.
/// </summary>
public sealed class ReplicaReadsTests(ReplicaApp fixture, ITestOutputHelper output) : IClassFixture<ReplicaApp>
{
    static StringContent Patch(string json) => new(json, Encoding.UTF8, "application/merge-patch+json");

    async Task SeedAsync(string prefix, int count)
    {
        var admin = fixture.App.CreateAdminClient();
        for (var i = 0; i < count; i++)
        {
            var form = CatalogClient.Form(new TestItem($"{prefix}-{i}", $"replica item {i} {(i % 2 == 0 ? "linen" : "silk")} shirt", Price: 10 + i));
            using var response = await admin.PutAsync($"/items/{prefix}-{i}", form);
            Assert.True(response.IsSuccessStatusCode, $"PUT answered {(int)response.StatusCode}; the service logged: {fixture.App.Logs.Problems}");
        }
    }

    static string? ServedBy(HttpResponseMessage response) =>
        response.Headers.TryGetValues(Similarity.Database.ServedBy.HeaderName, out var values) ? values.Single() : null;

    static async Task<decimal> PriceAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("price").GetDecimal();

    async Task WaitForServedByAsync(HttpClient client, string path, string role)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await client.GetAsync(path);
            // A storefront read without a token may be a standby's past: the item just written is not there yet (404).
            if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
                response.EnsureSuccessStatusCode();
            if (response.IsSuccessStatusCode && ServedBy(response) == role)
                return;
            Assert.True(DateTime.UtcNow < deadline, $"{path} was not served by the {role} within 30 s");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task The_storefronts_reads_are_served_by_the_standby()
    {
        await SeedAsync("rd", 12);
        var client = fixture.App.CreateClient();
        await WaitForServedByAsync(client, "/similar/rd-11?k=5", Similarity.Database.ServedBy.Standby);
        var roles = new List<string?>();
        for (var n = 0; n < 40; n++)
        {
            using var similar = await client.GetAsync($"/similar/rd-{n % 12}?k=5");
            similar.EnsureSuccessStatusCode();
            roles.Add(ServedBy(similar));
            using var item = await client.GetAsync($"/items/rd-{n % 12}");
            item.EnsureSuccessStatusCode();
            roles.Add(ServedBy(item));
        }
        var share = roles.Count(r => r == Similarity.Database.ServedBy.Standby) / (double)roles.Count;
        output.WriteLine($"served by the standby: {share:P0} of {roles.Count} reads");
        Assert.True(share >= 0.9, $"{share:P0} of the reads were served by the standby");
    }

    [Fact]
    public async Task A_read_that_sends_the_writes_token_back_sees_the_write_and_one_without_it_may_not()
    {
        await SeedAsync("tk", 1);
        var admin = fixture.App.CreateAdminClient();
        var client = fixture.App.CreateClient();
        var waits = new List<double>();
        // 1. Replay running: every read with the token sees its write, on the standby, and the wait is short.
        for (var n = 1; n <= 30; n++)
        {
            using var write = await admin.PatchAsync("/items/tk-0", Patch($$"""{"price": {{100 + n}}}"""));
            write.EnsureSuccessStatusCode();
            var token = write.Headers.GetValues(Consistency.TokenHeader).Single();
            using var read = new HttpRequestMessage(HttpMethod.Get, "/items/tk-0") { Headers = { { Consistency.TokenHeader, token } } };
            var started = Stopwatch.GetTimestamp();
            using var answer = await client.SendAsync(read);
            waits.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Assert.Equal(100 + n, await PriceAsync(answer));
        }
        waits.Sort();
        output.WriteLine($"read after write, replay running: p50 {waits[waits.Count / 2]:F1} ms, p99 (max of 30) {waits[^1]:F1} ms, whole request");

        // 2. Replay paused: without the token the standby answers the past; with it the read goes to the primary.
        await WaitForServedByAsync(client, "/items/tk-0", Similarity.Database.ServedBy.Standby);
        await fixture.Cluster.OnStandbyAsync("SELECT pg_wal_replay_pause()");
        try
        {
            using var write = await admin.PatchAsync("/items/tk-0", Patch("""{"price": 999}"""));
            var token = write.Headers.GetValues(Consistency.TokenHeader).Single();
            using var stale = await client.GetAsync("/items/tk-0");
            Assert.Equal(Similarity.Database.ServedBy.Standby, ServedBy(stale));
            Assert.Equal(130, await PriceAsync(stale));
            using var read = new HttpRequestMessage(HttpMethod.Get, "/items/tk-0") { Headers = { { Consistency.TokenHeader, token } } };
            using var fresh = await client.SendAsync(read);
            Assert.Equal(999, await PriceAsync(fresh));
            Assert.Equal(Similarity.Database.ServedBy.Primary, ServedBy(fresh));
            // An admin's read needs no token: it waits for the primary's position like one.
            using var adminRead = await admin.GetAsync("/items/tk-0");
            Assert.Equal(999, await PriceAsync(adminRead));
        }
        finally
        {
            await fixture.Cluster.OnStandbyAsync("SELECT pg_wal_replay_resume()");
        }
        // 3. Once the standby has replayed the write, it is back in the reads.
        await WaitForServedByAsync(client, "/items/tk-0", Similarity.Database.ServedBy.Standby);
    }

    [Fact]
    public async Task A_standby_behind_more_than_the_bound_is_left_out_until_it_catches_up()
    {
        await SeedAsync("lag", 4);
        var client = fixture.App.CreateClient();
        var admin = fixture.App.CreateAdminClient();
        await WaitForServedByAsync(client, "/similar/lag-0?k=3", Similarity.Database.ServedBy.Standby);
        await fixture.Cluster.OnStandbyAsync("SELECT pg_wal_replay_pause()");
        try
        {
            // The primary moves on; the standby stays where it paused, and after the bound (1 s here) it is left out.
            using var write = await admin.PatchAsync("/items/lag-1", Patch("""{"price": 77}"""));
            write.EnsureSuccessStatusCode();
            await WaitForServedByAsync(client, "/similar/lag-0?k=3", Similarity.Database.ServedBy.Primary);
            using var item = await client.GetAsync("/items/lag-1");
            Assert.Equal(77, await PriceAsync(item)); // on the primary, so never the past
        }
        finally
        {
            await fixture.Cluster.OnStandbyAsync("SELECT pg_wal_replay_resume()");
        }
        await WaitForServedByAsync(client, "/similar/lag-0?k=3", Similarity.Database.ServedBy.Standby);
    }
}
