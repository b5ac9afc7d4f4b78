using Npgsql;
using Similarity.Database;

namespace Similarity.Insight;

/// <summary>What the catalog checks found for import jobs, as the job's result and <c>GET /imports/{id}/checks</c> show it.</summary>
public sealed class ImportCheckReads(NpgsqlDataSource dataSource)
{
    /// <summary>A job's checks by kind, their total, and where they are listed.</summary>
    public sealed record ImportCheckCounts(int Duplicate, int Mismatch, int NoPicture, int SmallPicture, int BoilerplateDescription, int RepeatedTitle, int Total, string List);

    public sealed record ImportCheck(string Kind, string Sku, string Detail, IReadOnlyList<string> Related, double? Score);

    public static ImportCheckCounts Empty(Guid jobId) => new(0, 0, 0, 0, 0, 0, 0, ListOf(jobId));

    static string ListOf(Guid jobId) => $"/imports/{jobId}/checks";

    /// <summary>The counts of each of <paramref name="jobIds"/> (all zero for a job without checks).</summary>
    public Task<Dictionary<Guid, ImportCheckCounts>> CountsAsync(IReadOnlyCollection<Guid> jobIds, CancellationToken ct) =>
        dataSource.ReadWithRetryAsync(async ct =>
        {
            await using var command = dataSource.CreateCommand("SELECT job_id, kind, count(*) AS n FROM import_checks WHERE job_id = ANY($1) GROUP BY job_id, kind");
            command.Parameters.Add(new() { Value = jobIds.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            var byJob = jobIds.Distinct().ToDictionary(id => id, _ => new Dictionary<string, int>(StringComparer.Ordinal));
            while (await reader.ReadAsync(ct))
                byJob[reader.GetGuid(reader.GetOrdinal("job_id"))][reader.GetString(reader.GetOrdinal("kind"))] = (int)reader.GetInt64(reader.GetOrdinal("n"));
            return byJob.ToDictionary(e => e.Key, e =>
            {
                int Of(string kind) => e.Value.GetValueOrDefault(kind);
                return new ImportCheckCounts(Of(ImportCheckKind.Duplicate), Of(ImportCheckKind.Mismatch), Of(ImportCheckKind.NoPicture), Of(ImportCheckKind.SmallPicture),
                    Of(ImportCheckKind.BoilerplateDescription), Of(ImportCheckKind.RepeatedTitle), e.Value.Values.Sum(), ListOf(e.Key));
            });
        }, ct);

    /// <summary>A page of a job's checks in kind then SKU order, skipping the first <paramref name="after"/>; only one <paramref name="kind"/> when given.</summary>
    public Task<List<ImportCheck>> PageAsync(Guid jobId, string? kind, int after, int limit, CancellationToken ct) =>
        dataSource.ReadWithRetryAsync(async ct =>
        {
            await using var command = dataSource.CreateCommand("""
                SELECT kind, sku, detail, related, score FROM import_checks
                WHERE job_id = $1 AND ($2::text IS NULL OR kind = $2)
                ORDER BY kind, sku OFFSET $3 LIMIT $4
                """);
            command.Parameters.Add(new() { Value = jobId });
            command.Parameters.Add(new() { Value = (object?)kind ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new() { Value = after });
            command.Parameters.Add(new() { Value = limit });
            await using var reader = await command.ExecuteReaderAsync(ct);
            var checks = new List<ImportCheck>();
            while (await reader.ReadAsync(ct))
            {
                checks.Add(new ImportCheck(reader.GetString(reader.GetOrdinal("kind")), reader.GetString(reader.GetOrdinal("sku")),
                    reader.GetString(reader.GetOrdinal("detail")), reader.GetFieldValue<string[]>(reader.GetOrdinal("related")),
                    reader.IsDBNull(reader.GetOrdinal("score")) ? null : Math.Round(reader.GetDouble(reader.GetOrdinal("score")), 6)));
            }
            return checks;
        }, ct);

    /// <summary>Whether the import job exists.</summary>
    public Task<bool> JobExistsAsync(Guid jobId, CancellationToken ct) =>
        dataSource.ReadWithRetryAsync(async ct =>
        {
            await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM import_jobs WHERE id = $1)");
            command.Parameters.Add(new() { Value = jobId });
            return (bool)(await command.ExecuteScalarAsync(ct))!;
        }, ct);
}
