using Npgsql;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Ha;

/// <summary>The formation `db ha start` makes: its shape, its connection string, and what a killed standby costs.</summary>
[Collection(HaCollection.Name)]
public sealed class HaFormationTests(HaFormation formation)
{
    [Fact]
    public async Task The_multi_host_string_reaches_the_primary_and_the_other_nodes_are_synchronous_standbys()
    {
        var primary = await formation.PrimaryAsync();
        await using (var connection = new NpgsqlConnection(formation.ConnectionString))
        {
            await connection.OpenAsync();
            Assert.Equal(primary.Port, connection.Port);
            Assert.False(await ScalarAsync<bool>(connection, "SELECT pg_is_in_recovery()"));
            Assert.StartsWith("ANY 1 (", await ScalarAsync<string>(connection, "SHOW synchronous_standby_names"));
        }
        foreach (var standby in formation.Nodes.Where(n => n != primary))
        {
            await using var connection = new NpgsqlConnection(formation.NodeConnectionString(standby));
            await connection.OpenAsync();
            Assert.True(await ScalarAsync<bool>(connection, "SELECT pg_is_in_recovery()"));
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<int>(connection, "CREATE TABLE t (i int)"));
            Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, refused.SqlState);
        }
    }

    [Fact]
    public async Task Pgvector_created_on_the_primary_answers_on_every_standby()
    {
        await using var database = await TestDatabase.CreateAsync(formation.ConnectionString);
        await using (var primary = await database.OpenAsync())
        {
            await ScalarAsync<int>(primary, "CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE v (e vector(2)); INSERT INTO v VALUES ('[3,4]')");
        }
        foreach (var node in formation.Nodes)
        {
            await using var connection = new NpgsqlConnection(formation.NodeConnectionString(node, database.Name));
            await connection.OpenAsync();
            // Synchronous replication (ANY 1) guarantees one standby has the commit; the other may replay it a moment later.
            var norm = await PollAsync(() => ScalarAsync<double?>(connection, "SELECT vector_norm(e) FROM v"), n => n is not null);
            Assert.Equal(5.0, norm);
        }
    }

    [Fact]
    public async Task A_standby_killed_with_sigkill_loses_no_acknowledged_write_and_comes_back()
    {
        var primary = await formation.PrimaryAsync();
        var standby = formation.Nodes.First(n => n != primary);
        var before = HaFormation.PostmasterPid(standby);
        await using var database = await TestDatabase.CreateAsync(formation.ConnectionString);
        await using var writer = await database.OpenAsync();
        await ScalarAsync<int>(writer, "CREATE TABLE acknowledged (id int PRIMARY KEY)");

        HaFormation.KillPostgres(standby);
        var acknowledged = new List<int>();
        for (var id = 1; id <= 200; id++)
        {
            await ScalarAsync<int>(writer, $"INSERT INTO acknowledged VALUES ({id})");
            acknowledged.Add(id);
        }

        // Its keeper starts it again; the monitor sees it back as a secondary.
        await formation.WaitForStateAsync(
            s => HaNodeState.IsHealthy(s) && HaFormation.PostmasterPid(standby) is int pid && pid != before,
            TimeSpan.FromSeconds(90), $"{standby.Name} restarted and secondary");
        await using var back = new NpgsqlConnection(formation.NodeConnectionString(standby, database.Name));
        await PollAsync(async () => { try { await back.OpenAsync(); return true; } catch (NpgsqlException) { return false; } }, ok => ok);
        var rows = await PollAsync(() => ScalarAsync<long>(back, "SELECT count(*) FROM acknowledged"), n => n == acknowledged.Count);
        Assert.Equal(acknowledged.Count, rows);
        Assert.Equal(acknowledged.Count, await ScalarAsync<long>(back, "SELECT count(DISTINCT id) FROM acknowledged"));
    }

    static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default! : (T)value;
    }

    /// <summary>Polls (every 100 ms, up to 30 s) until <paramref name="done"/> holds for the value read.</summary>
    static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var value = await read();
        while (!done(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            value = await read();
        }
        return value;
    }
}
