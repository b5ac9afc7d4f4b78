using System.Collections.Concurrent;
using System.Net;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Similarity.IntegrationTests.Ha;

/// <summary>
/// The primary's node killed with SIGKILL (postgres and its keeper, as when its machine dies) while the service
/// works: the monitor promotes a standby, nothing acknowledged is lost, and the old primary rejoins as a standby.
/// </summary>
[Collection(HaCollection.Name)]
public sealed class HaPrimaryFaultTests(HaFormation formation, ITestOutputHelper output)
{
    static readonly TimeSpan FailoverLimit = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task An_import_survives_the_primary_killed_mid_job_exactly_once_and_the_old_primary_rejoins_as_a_standby()
    {
        const int Rows = 600;
        var (database, spool) = await HaApp.CreateStateAsync(formation);
        var app = new HaApp(database, spool);
        try
        {
            await app.StartAsync();
            var csv = "sku,title\n" + string.Join("\n", Enumerable.Range(0, Rows).Select(i => $"ha-{i:D4},Failover item number {i}"));
            var job = await app.CreateAdminClient().StartAsync(ImportClient.Form(csv));
            await HaApp.PollAsync(database, "SELECT processed_rows FROM import_jobs WHERE id = $1", v => v is int n && n >= 40, TimeSpan.FromSeconds(60), job.Id);

            var old = await formation.PrimaryAsync();
            await HaFormation.KillNodeAsync(old);
            var promoted = await WaitForNewPrimaryAsync(old);
            output.WriteLine($"{old.Name} killed; {promoted.Name} promoted");

            var status = await HaApp.PollAsync(database, "SELECT status FROM import_jobs WHERE id = $1",
                v => v is string s && s != ImportStatus.Running && s != ImportStatus.Queued, FailoverLimit, job.Id);
            Assert.Equal(ImportStatus.Succeeded, status);
            Assert.Equal((long)Rows, await database.ExecuteAsync("SELECT count(*) FROM items WHERE sku LIKE 'ha-%'"));
            Assert.Equal((long)Rows, await database.ExecuteAsync("SELECT count(DISTINCT sku) FROM items WHERE sku LIKE 'ha-%'"));
            Assert.Equal(Rows, await database.ExecuteAsync("SELECT inserted FROM import_jobs WHERE id = $1", job.Id));

            await formation.StartAsync(); // runs the killed node's keeper again: it rejoins
            var states = await formation.WaitHealthyAsync(FailoverLimit);
            Assert.Equal("secondary", states.Single(s => s.Node.Name == old.Name).Reported);
            Assert.Equal("primary", states.Single(s => s.Node.Name == promoted.Name).Reported);
        }
        finally
        {
            await app.DisposeAsync();
            await formation.StartAsync();
            await database.DisposeAsync();
            Directory.Delete(spool, recursive: true);
        }
    }

    [Fact]
    public async Task Two_instances_under_similar_load_lose_no_acknowledged_put_when_the_primary_dies_and_answer_again_after()
    {
        var (database, spool) = await HaApp.CreateStateAsync(formation);
        var first = new HaApp(database, spool);
        var second = new HaApp(database, spool);
        try
        {
            await first.StartAsync();
            var seed = "sku,title\n" + string.Join("\n", Enumerable.Range(0, 40).Select(i => $"seed-{i:D2},Seeded thing {i}"));
            var seeded = await first.CreateAdminClient().WaitForEndAsync((await first.CreateAdminClient().StartAsync(ImportClient.Form(seed))).Id);
            Assert.Equal("succeeded", seeded.Status);
            await second.StartAsync();
            var readers = new[] { first.CreateClient(), second.CreateClient() };
            var writer = first.CreateAdminClient();

            var answers = new ConcurrentBag<HttpStatusCode>();
            var acknowledged = new ConcurrentBag<string>();
            using var stop = new CancellationTokenSource();
            var load = Task.WhenAll(readers.Select(reader => ReadLoopAsync(reader, answers, stop.Token))
                .Append(WriteLoopAsync(writer, acknowledged, stop.Token)));

            var old = await formation.PrimaryAsync();
            await WaitForAsync(() => acknowledged.Count >= 5, "five PUTs acknowledged before the fault");
            await HaFormation.KillNodeAsync(old);
            await WaitForNewPrimaryAsync(old);
            var afterPromotion = acknowledged.Count;
            await WaitForAsync(() => acknowledged.Count >= afterPromotion + 10, "ten PUTs acknowledged by the new primary");
            await stop.CancelAsync();
            await load;

            var ok = answers.Count(s => s == HttpStatusCode.OK);
            output.WriteLine($"/similar: {ok} of {answers.Count} answered 200 across the failover; {acknowledged.Count} PUTs acknowledged");
            foreach (var reader in readers)
                Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/similar/seed-01")).StatusCode);
            var stored = (long)(await database.ExecuteAsync("SELECT count(*) FROM items WHERE sku = ANY($1)", [acknowledged.ToArray()]))!;
            Assert.Equal(acknowledged.Count, stored);
        }
        finally
        {
            await first.DisposeAsync();
            await second.DisposeAsync();
            await formation.StartAsync();
            await database.DisposeAsync();
            Directory.Delete(spool, recursive: true);
        }
    }

    static async Task ReadLoopAsync(HttpClient client, ConcurrentBag<HttpStatusCode> answers, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            try
            {
                using var response = await client.GetAsync($"/similar/seed-{i % 40:D2}", stop);
                answers.Add(response.StatusCode);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>PUTs new items one after another; a sku counts as acknowledged only when its PUT answered 2xx.</summary>
    static async Task WriteLoopAsync(HttpClient client, ConcurrentBag<string> acknowledged, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var sku = $"put-{i:D5}";
            try
            {
                using var response = await client.PutAsync($"/items/{sku}", CatalogClient.Form(new TestItem(sku, $"Written during the fault {i}")), stop);
                if (response.IsSuccessStatusCode)
                    acknowledged.Add(sku);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    async Task<HaNode> WaitForNewPrimaryAsync(HaNode old) =>
        (await formation.WaitForStateAsync(
            s => s.Any(n => n.Node.Name != old.Name && n.Reported == "primary" && n.Settled), FailoverLimit, $"a primary other than {old.Name}"))
        .Single(n => n.Node.Name != old.Name && n.Reported == "primary").Node;

    static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + FailoverLimit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"not reached in {FailoverLimit.TotalSeconds} s: {what}");
            await Task.Delay(100);
        }
    }
}
