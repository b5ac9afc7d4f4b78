using Npgsql;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Ha;

/// <summary>
/// The service in-process over a database of the formation (the multi-host string), several of them over one
/// database and spool as several instances are; imports in small batches so that a fault lands mid-job.
/// </summary>
public sealed class HaApp(TestDatabase database, string spool) : SimilarityApp(database, spool)
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Similarity:Imports:BatchSize", "8")];

    /// <summary>A database of the formation and a spool folder for the instances a test starts over it.</summary>
    public static async Task<(TestDatabase Database, string Spool)> CreateStateAsync(HaFormation formation)
    {
        var database = await TestDatabase.CreateAsync(formation.ConnectionString);
        // pgvector exists before the service's first connection, as in a database provisioned once. When the migrator
        // created it, the first import over the multi-host string failed ("Cannot resolve 'vector'"): the types the
        // migrator reloads did not reach the pool the import wrote through (a Database matter, reported to its owner).
        await database.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS vector");
        return (database, Directory.CreateTempSubdirectory("similarity-ha-spool-").FullName);
    }

    /// <summary>
    /// One value read on the primary through the multi-host string, or null while there is none to answer (the
    /// failover window): a test polls it rather than failing on the first refused connection.
    /// </summary>
    public static async Task<object?> TryReadAsync(TestDatabase database, string sql, params object[] parameters)
    {
        try
        {
            return await database.ExecuteAsync(sql, parameters);
        }
        catch (NpgsqlException error) when (error.IsTransient || error is PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown })
        {
            return null;
        }
    }

    /// <summary>Polls <see cref="TryReadAsync"/> every 200 ms until <paramref name="done"/> holds or the time is up.</summary>
    public static async Task<object?> PollAsync(TestDatabase database, string sql, Func<object?, bool> done, TimeSpan timeout, params object[] parameters)
    {
        var deadline = DateTime.UtcNow + timeout;
        var value = await TryReadAsync(database, sql, parameters);
        while (!done(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            value = await TryReadAsync(database, sql, parameters);
        }
        return value;
    }
}
