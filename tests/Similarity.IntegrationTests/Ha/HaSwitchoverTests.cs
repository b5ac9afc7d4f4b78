using System.Net;
using Similarity.IntegrationTests.Infrastructure;
using static Similarity.IntegrationTests.Operations.ModelSetTesting;

namespace Similarity.IntegrationTests.Ha;

/// <summary>
/// A planned switchover (<c>db ha failover</c>) while a model set is being activated: the activation either happens
/// whole or not at all, goes through once there is a primary again, and /similar then answers from the new set —
/// the brute-force top ten of the vectors stored on the new primary.
/// </summary>
[Collection(HaCollection.Name)]
public sealed class HaSwitchoverTests(HaFormation formation)
{
    [Fact]
    public async Task A_model_switch_during_a_switchover_ends_with_the_new_set_live_and_answering_exactly()
    {
        var (database, spool) = await HaApp.CreateStateAsync(formation);
        var app = new App(database, spool, "1000");
        try
        {
            await app.StartAsync();
            var admin = app.CreateAdminClient();
            for (var i = 0; i < Items; i++)
                await admin.PutItemAsync(ItemOf(i));
            await DeployAndEmbedAsync(admin);
            var live = await LiveNameAsync(admin);
            var old = await formation.PrimaryAsync();

            var switchover = HaScript.RunAsync(TimeSpan.FromMinutes(3), "db", "ha", "failover");
            // The activation is sent once the monitor has begun moving the primary (a node assigned a new state).
            await formation.WaitForStateAsync(s => s.Any(n => !n.Settled) || switchover.IsCompleted, TimeSpan.FromSeconds(60), "the switchover under way");
            var first = await admin.PostAsync($"/models/{Candidate}/activate", null);
            await switchover;
            var states = await formation.WaitHealthyAsync(TimeSpan.FromSeconds(120));
            Assert.NotEqual(old.Name, states.Single(s => s.Reported == "primary").Node.Name);

            // Whole or not at all: if the first attempt was refused the old set is still live, and a retry switches.
            var afterFirst = await PollLiveNameAsync(admin);
            if (first.StatusCode == HttpStatusCode.OK)
                Assert.Equal(Candidate, afterFirst);
            else
            {
                Assert.Equal(live, afterFirst);
                await ActivateAsync(app, admin, Candidate);
            }
            Assert.Equal(Candidate, await LiveNameAsync(admin));
            var vectors = await ReadVectorsAsync(database);
            Assert.All(vectors, v => Assert.Equal(128, v.Live!.Length)); // the clipart set's vectors are the live ones
            foreach (var sku in new[] { "ml-03", "ml-10", "ml-17" })
                Assert.Equal(TopTen(vectors, sku, v => v.Live), Skus(await admin.SimilarAsync(sku)));
        }
        finally
        {
            await app.DisposeAsync();
            await database.DisposeAsync();
            Directory.Delete(spool, recursive: true);
        }
    }

    /// <summary>GET /models's live set, asked again while the service's pool still finds no primary.</summary>
    static async Task<string> PollLiveNameAsync(HttpClient admin)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                return await LiveNameAsync(admin);
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
