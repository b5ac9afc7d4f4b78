using Npgsql;

namespace Similarity.Imports;

/// <summary>
/// A worker's hold on a job: a PostgreSQL advisory lock keyed by the job's id, taken on the worker's own connection
/// and held while it runs the job. The lock dies with its connection, so a job whose runner died is claimed again.
/// </summary>
static class ImportJobClaim
{
    /// <summary>The oldest queued or orphaned running job whose advisory lock this connection can take.</summary>
    public static async Task<ImportJob?> ClaimAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var candidates = new List<Guid>();
        await using (var open = new NpgsqlCommand($"SELECT id FROM import_jobs WHERE status IN ({ImportStatus.OpenSql}) ORDER BY created_at LIMIT 50", connection))
        await using (var reader = await open.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                candidates.Add(reader.GetGuid(0));

        foreach (var id in candidates)
        {
            await using var claim = new NpgsqlCommand($"""
                WITH locked AS (SELECT pg_try_advisory_lock({LockKey}) AS ok)
                UPDATE import_jobs SET status = '{ImportStatus.Running}', started_at = coalesce(started_at, now())
                FROM locked WHERE locked.ok AND id = $1 AND status IN ({ImportStatus.OpenSql})
                RETURNING {Columns("import_jobs.")}
                """, connection);
            claim.Parameters.Add(new() { Value = id });
            await using var reader = await claim.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
                return ImportStore.Read(reader);
            await reader.DisposeAsync();
            await UnlockAsync(connection, id); // taken but the job had just ended: give the lock back
        }
        return null;
    }

    const string LockKey = "('x' || substr(md5($1::text), 1, 16))::bit(64)::bigint";

    static string Columns(string prefix) => string.Join(", ", ImportStore.Columns.Split(',').Select(c => prefix + c.Trim()));

    public static async Task UnlockAsync(NpgsqlConnection connection, Guid id)
    {
        try
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", connection);
            unlock.Parameters.Add(new() { Value = id });
            await unlock.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // A broken connection took the lock with it.
        }
    }
}
