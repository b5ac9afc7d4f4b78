using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Similarity.Database;
using Similarity.Hosting;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Similar;

namespace Similarity.IntegrationTests.Replicas;

/// <summary>
/// Two instances of the service on one database: each duty has one leader, the work is done by it alone (counted by
/// each instance's own <c>similarity.similar.lists_computed</c>), and when the leader goes another takes over.
/// </summary>
public sealed class LeaderTests
{
    sealed class Instance(TestDatabase database, string spool) : SimilarityApp(database, spool);

    /// <summary>Lists computed by each instance, from its own counter (the two hosts share the process, not their meters).</summary>
    sealed class ListsCounted : IDisposable
    {
        readonly MeterListener _listener = new();
        readonly Dictionary<object, long> _counts = [];

        public ListsCounted(params SimilarityApp[] apps)
        {
            var counters = apps.Select(app => app.Services.GetRequiredService<SimilarityMetrics>().ListsComputed).ToHashSet();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (counters.Contains(instrument))
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                lock (_counts)
                    _counts[instrument] = _counts.GetValueOrDefault(instrument) + value;
            });
            _listener.Start();
        }

        public long Of(SimilarityApp app)
        {
            lock (_counts)
                return _counts.GetValueOrDefault(app.Services.GetRequiredService<SimilarityMetrics>().ListsComputed);
        }

        public void Dispose() => _listener.Dispose();
    }

    static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} within 60 s");
            await Task.Delay(20);
        }
    }

    static string[] Held(SimilarityApp app) => [.. app.Services.GetRequiredService<Leadership>().Held];

    [Fact]
    public async Task Each_duty_has_one_leader_the_lists_are_computed_by_it_alone_and_another_takes_over_when_it_goes()
    {
        var database = await TestDatabase.CreateAsync();
        var spool = Directory.CreateTempSubdirectory("similarity-spool-").FullName;
        var first = new Instance(database, spool);
        var second = new Instance(database, spool);
        try
        {
            await first.StartAsync();
            await second.StartAsync();
            using var counted = new ListsCounted(first, second);
            await WaitUntilAsync(() => Held(first).Contains(ListWorker.Duty) || Held(second).Contains(ListWorker.Duty), "a leader of the lists");
            var (leader, follower) = Held(first).Contains(ListWorker.Duty) ? (first, second) : (second, first);

            var admin = follower.CreateAdminClient();
            for (var i = 0; i < 12; i++)
                await admin.PutItemAsync(new TestItem($"lead-{i}", $"leader item {i} {(i % 2 == 0 ? "linen" : "silk")} shirt"));
            await NeighbourLists.AppliedAsync(database);

            Assert.True(counted.Of(leader) > 0, "the leader computed the lists");
            Assert.Equal(0, counted.Of(follower));
            foreach (var duty in new[] { ListWorker.Duty, Similarity.Models.StandbyEmbedder.Duty, Similarity.Feedback.FeedbackRebuild.Duty })
                Assert.False(Held(first).Contains(duty) && Held(second).Contains(duty), $"{duty} has two leaders");

            // The leader goes (its connections with it): the other instance wins the lease and does the work.
            await leader.DisposeAsync();
            await WaitUntilAsync(() => Held(follower).Contains(ListWorker.Duty), "the follower leading the lists");
            for (var i = 12; i < 16; i++)
                await admin.PutItemAsync(new TestItem($"lead-{i}", $"leader item {i} wool coat"));
            await NeighbourLists.AppliedAsync(database);
            Assert.True(counted.Of(follower) > 0, "the new leader computed the lists");
        }
        finally
        {
            await first.DisposeAsync();
            await second.DisposeAsync();
            await database.DisposeAsync();
            Directory.Delete(spool, recursive: true);
        }
    }
}
