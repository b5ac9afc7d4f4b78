using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Similarity.IntegrationTests.Infrastructure;
using Similarity.Models;
using Xunit.Abstractions;

namespace Similarity.IntegrationTests.Replicas;

/// <summary>
/// What a model switch's DDL does to reads on a standby: the switch's statements (items locked ACCESS EXCLUSIVE, every
/// swapped column renamed through its twin) replayed while the storefront reads /similar from the standby. The
/// statements run twice in one transaction, so the columns end where they were and the service keeps answering the
/// same set, while the standby replays exactly the lock a switch takes. Measured: failed reads, cancelled queries
/// (pg_stat_database_conflicts on the standby) and the slowest read while the lock replays.
/// </summary>
public sealed class SwitchReplayTests(ReplicaApp fixture, ITestOutputHelper output) : IClassFixture<ReplicaApp>
{
    [Fact]
    public async Task A_switchs_lock_replayed_on_the_standby_cancels_no_read_and_fails_none()
    {
        var admin = fixture.App.CreateAdminClient();
        for (var i = 0; i < 24; i++)
            await admin.PutItemAsync(new TestItem($"sw-{i}", $"switch item {i} {(i % 2 == 0 ? "linen" : "silk")} shirt"));
        var conflictsBefore = await ConflictsAsync();
        var client = fixture.App.CreateClient();
        var latencies = new ConcurrentQueue<(double Ms, bool Ok, bool DuringSwitch)>();
        var switching = 0;
        using var stop = new CancellationTokenSource();

        var readers = Enumerable.Range(0, 6).Select(reader => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var during = Volatile.Read(ref switching) == 1;
                var started = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync($"/similar/sw-{(reader + n) % 24}?k=5");
                latencies.Enqueue((Stopwatch.GetElapsedTime(started).TotalMilliseconds, response.IsSuccessStatusCode, during));
            }
        })).ToList();

        var switches = new List<double>();
        while (latencies.Count < 200)
            await Task.Delay(10);
        for (var round = 0; round < 10; round++)
        {
            Volatile.Write(ref switching, 1);
            var started = Stopwatch.GetTimestamp();
            await SwitchTwiceAsync();
            // The standby has replayed it (and released the lock) when its position reaches the primary's.
            await WaitForReplayAsync();
            switches.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Volatile.Write(ref switching, 0);
            var seen = latencies.Count;
            while (latencies.Count < seen + 50)
                await Task.Delay(10);
        }
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        var conflictsAfter = await ConflictsAsync();
        var all = latencies.ToList();
        var during = all.Where(l => l.DuringSwitch).Select(l => l.Ms).Order().ToList();
        var outside = all.Where(l => !l.DuringSwitch).Select(l => l.Ms).Order().ToList();
        output.WriteLine($"reads: {all.Count}, failed: {all.Count(l => !l.Ok)}; conflicts on the standby: {conflictsBefore} -> {conflictsAfter}");
        output.WriteLine($"switch (DDL committed and replayed): median {switches.Order().ElementAt(switches.Count / 2):F1} ms, max {switches.Max():F1} ms");
        if (during.Count > 0)
            output.WriteLine($"reads during a switch: {during.Count}, median {during[during.Count / 2]:F1} ms, max {during[^1]:F1} ms");
        output.WriteLine($"reads outside: median {outside[outside.Count / 2]:F1} ms, p99 {outside[(int)(outside.Count * 0.99)]:F1} ms, max {outside[^1]:F1} ms");
        Assert.Equal(0, all.Count(l => !l.Ok));
        Assert.Equal(conflictsBefore, conflictsAfter);
    }

    async Task SwitchTwiceAsync()
    {
        await using var connection = await fixture.Database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var statements = new List<string> { "SET LOCAL lock_timeout = '5s'", "LOCK TABLE items IN ACCESS EXCLUSIVE MODE" };
        for (var twice = 0; twice < 2; twice++)
            foreach (var column in StandbyColumns.Swapped)
                statements.AddRange([
                    $"ALTER TABLE items RENAME COLUMN {column} TO swapping_{column}",
                    $"ALTER TABLE items RENAME COLUMN standby_{column} TO {column}",
                    $"ALTER TABLE items RENAME COLUMN swapping_{column} TO standby_{column}"]);
        foreach (var sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    async Task WaitForReplayAsync()
    {
        var target = (NpgsqlTypes.NpgsqlLogSequenceNumber)(await fixture.Database.ExecuteAsync("SELECT pg_current_wal_insert_lsn()"))!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((NpgsqlTypes.NpgsqlLogSequenceNumber)(await fixture.Cluster.OnStandbyAsync("SELECT pg_last_wal_replay_lsn()"))! < target)
        {
            Assert.True(DateTime.UtcNow < deadline, "the standby did not replay the switch within 60 s");
            await Task.Delay(1);
        }
    }

    async Task<long> ConflictsAsync() => (long)(await fixture.Cluster.OnStandbyAsync(
        "SELECT confl_tablespace + confl_lock + confl_snapshot + confl_bufferpin + confl_deadlock FROM pg_stat_database_conflicts WHERE datname = current_database()",
        fixture.Database.Name))!;
}
