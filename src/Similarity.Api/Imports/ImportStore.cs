using Npgsql;
using NpgsqlTypes;

namespace Similarity.Imports;

/// <summary>An import job as stored.</summary>
public sealed record ImportJob(
    Guid Id, string? IdempotencyKey, byte[] BodySha256, string Format, string CatalogPath, string? ImagesPath, string Status,
    int? TotalRows, int ProcessedRows, int Inserted, int Updated, int Unchanged, int Superseded, int Failed, string? Error,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt);

public sealed record ImportError(int Row, string? Sku, string Reason);

/// <summary>Import jobs and their errors in PostgreSQL.</summary>
public sealed class ImportStore(NpgsqlDataSource dataSource)
{
    internal const string Columns = """
        id, idempotency_key, body_sha256, format, catalog_path, images_path, status, total_rows, processed_rows,
        inserted, updated, unchanged, superseded, failed, error, created_at, started_at, finished_at
        """;

    /// <summary>Creates the job, or returns the one already created under the same idempotency key (created: false).</summary>
    public async Task<(ImportJob Job, bool Created)> CreateAsync(Guid id, string? idempotencyKey, byte[] bodySha256, string format,
        string catalogPath, string? imagesPath, int totalRows, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO import_jobs (id, idempotency_key, body_sha256, format, catalog_path, images_path, status, total_rows)
            VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING {Columns}
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = (object?)idempotencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = bodySha256 });
        command.Parameters.Add(new() { Value = format });
        command.Parameters.Add(new() { Value = catalogPath });
        command.Parameters.Add(new() { Value = (object?)imagesPath ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = totalRows });
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            if (await reader.ReadAsync(ct))
                return (Read(reader), true);
        }
        await using var existing = dataSource.CreateCommand($"SELECT {Columns} FROM import_jobs WHERE idempotency_key = $1");
        existing.Parameters.Add(new() { Value = idempotencyKey! });
        await using var found = await existing.ExecuteReaderAsync(ct);
        await found.ReadAsync(ct);
        return (Read(found), false);
    }

    public async Task<ImportJob?> GetAsync(Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM import_jobs WHERE id = $1");
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public async Task<List<ImportJob>> ListAsync(int limit, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM import_jobs ORDER BY created_at DESC LIMIT $1");
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var jobs = new List<ImportJob>();
        while (await reader.ReadAsync(ct))
            jobs.Add(Read(reader));
        return jobs;
    }

    /// <summary>Rejected rows in row order, from <paramref name="afterRow"/> on.</summary>
    public async Task<List<ImportError>> ErrorsAsync(Guid id, int afterRow, int limit, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT row_number, sku, reason FROM import_errors WHERE job_id = $1 AND row_number > $2 ORDER BY row_number LIMIT $3
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = afterRow });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var errors = new List<ImportError>();
        while (await reader.ReadAsync(ct))
            errors.Add(new ImportError(reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2)));
        return errors;
    }

    /// <summary>Cancels a queued or running job; committed batches stay. False when it had already ended.</summary>
    public async Task<bool> CancelAsync(Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE import_jobs SET status = 'cancelled', finished_at = now() WHERE id = $1 AND status IN ('queued', 'running')
            """);
        command.Parameters.Add(new() { Value = id });
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    internal static ImportJob Read(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetFieldValue<byte[]>(2), r.GetString(3), r.GetString(4),
        r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.IsDBNull(7) ? null : r.GetInt32(7), r.GetInt32(8),
        r.GetInt32(9), r.GetInt32(10), r.GetInt32(11), r.GetInt32(12), r.GetInt32(13), r.IsDBNull(14) ? null : r.GetString(14),
        r.GetFieldValue<DateTimeOffset>(15), r.IsDBNull(16) ? null : r.GetFieldValue<DateTimeOffset>(16),
        r.IsDBNull(17) ? null : r.GetFieldValue<DateTimeOffset>(17));
}
