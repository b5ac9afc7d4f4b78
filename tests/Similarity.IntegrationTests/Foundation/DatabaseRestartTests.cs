using System.Collections.Concurrent;
using System.Net;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Foundation;

/// <summary>
/// A PostgreSQL restart under /similar and GET /items load, on a cluster of this test's own (the shared test
/// cluster serves other classes in parallel). Every pooled connection dies with the restart; reads retry once
/// on a fresh one.
/// </summary>
public sealed class DatabaseRestartTests
{
    sealed class App(TestDatabase database, string spool) : SimilarityApp(database, spool);

    enum Phase { Before, Restarting, After, AfterQuietRestart }

    [Fact]
    public async Task A_restart_under_read_load_gives_no_500_and_every_read_after_it_succeeds()
    {
        await using var cluster = await ThrowawayCluster.StartAsync();
        var database = await TestDatabase.CreateAsync(cluster.ConnectionString);
        var spool = Directory.CreateTempSubdirectory("similarity-spool-").FullName;
        var app = new App(database, spool);
        try
        {
            var admin = app.CreateAdminClient();
            for (var i = 0; i < 16; i++)
                await admin.PutItemAsync(new TestItem($"rs-{i}", $"restart item {i} {(i % 2 == 0 ? "linen" : "silk")} shirt"));
            var client = app.CreateClient();
            var answers = new ConcurrentQueue<(Phase Phase, HttpStatusCode Status, string? Type)>();
            var phase = (int)Phase.Before;

            // Eight readers at once (so the pools hold several connections), each until it has sent `perReader` in `until`.
            Task ReadAsync(Phase until, int perReader) => Task.WhenAll(Enumerable.Range(0, 8).Select(reader => Task.Run(async () =>
            {
                for (int n = 0, done = 0; done < perReader; n++)
                {
                    var started = (Phase)Volatile.Read(ref phase);
                    var path = n % 3 == 2 ? $"/items/rs-{(reader + n) % 16}" : $"/similar/rs-{(reader + n) % 16}?k=5";
                    using var response = await client.GetAsync(path);
                    answers.Enqueue((started, response.StatusCode, response.Content.Headers.ContentType?.MediaType));
                    if (started == until)
                        done++;
                }
            })));

            // 1. The restart happens while the readers run.
            var load = ReadAsync(Phase.After, perReader: 10);
            await WaitUntilAsync(() => answers.Count >= 80);
            Volatile.Write(ref phase, (int)Phase.Restarting);
            await cluster.RestartAsync();
            Volatile.Write(ref phase, (int)Phase.After);
            await load;

            // 2. The restart happens between bursts: every connection the pools hold when the readers return is dead.
            await cluster.RestartAsync();
            Volatile.Write(ref phase, (int)Phase.AfterQuietRestart);
            await ReadAsync(Phase.AfterQuietRestart, perReader: 5);

            Assert.DoesNotContain(answers, a => a.Status == HttpStatusCode.InternalServerError);
            // In flight while the server was down: only a 503 ProblemDetails (with Retry-After) may answer, never a 500.
            Assert.All(answers.Where(a => a.Status != HttpStatusCode.OK), a =>
            {
                Assert.True(a.Phase is Phase.Before or Phase.Restarting, $"{a.Status} after the restart; the service logged:\n{app.Logs.Problems}");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status);
                Assert.Equal("application/problem+json", a.Type);
            });
            Assert.Equal(80, answers.Count(a => a.Phase == Phase.After));
            Assert.Equal(40, answers.Count(a => a.Phase == Phase.AfterQuietRestart));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
            Directory.Delete(spool, recursive: true);
        }
    }

    static async Task WaitUntilAsync(Func<bool> condition, int timeoutSeconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"not reached in {timeoutSeconds} s");
            await Task.Delay(10);
        }
    }
}
