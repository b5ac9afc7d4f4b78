using Npgsql;
using NpgsqlTypes;
using Similarity.Catalog;
using Similarity.Database;

namespace Similarity.Imports;

/// <summary>Import jobs and their errors in PostgreSQL.</summary>
public sealed class ImportStore(NpgsqlDataSource dataSource)
{
    internal const string Columns = """
        id, idempotency_key, body_sha256, format, catalog_path, images_path, status, total_rows, processed_rows,
        inserted, updated, unchanged, superseded, errors, error, created_at, started_at, finished_at,
        format_name, mapping::text, missing_image, pictures_downloaded, reembedded, warnings, file_name
        """;

    /// <summary>
    /// Creates the job, or returns the one already created under the same idempotency key (created: false).
    /// Its total is unknown until the job has counted the rows; <paramref name="fileName"/> is the upload's, as sent.
    /// </summary>
    public async Task<(ImportJob Job, bool Created)> CreateAsync(Guid id, string? idempotencyKey, byte[] bodySha256, string format,
        string catalogPath, string? imagesPath, ImportReading reading, string? fileName, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO import_jobs (id, idempotency_key, body_sha256, format, catalog_path, images_path, status, format_name, mapping, missing_image, file_name)
            VALUES ($1, $2, $3, $4, $5, $6, '{ImportStatus.Queued}', $7, $8::jsonb, $9, $10)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING {Columns}
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = (object?)idempotencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = bodySha256 });
        command.Parameters.Add(new() { Value = format });
        command.Parameters.Add(new() { Value = catalogPath });
        command.Parameters.Add(new() { Value = (object?)imagesPath ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)reading.FormatName ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)reading.Mapping ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = reading.MissingImage });
        command.Parameters.Add(new() { Value = (object?)fileName ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
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

    // Reads run again on a broken pooled connection (see DatabaseFaults.ReadWithRetryAsync).
    public Task<ImportJob?> GetAsync(Guid id, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM import_jobs WHERE id = $1");
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }, ct);

    public Task<List<ImportJob>> ListAsync(int limit, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM import_jobs ORDER BY created_at DESC LIMIT $1");
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var jobs = new List<ImportJob>();
        while (await reader.ReadAsync(ct))
            jobs.Add(Read(reader));
        return jobs;
    }, ct);

    /// <summary>Row errors in row order, from <paramref name="afterRow"/> on.</summary>
    public Task<List<ImportError>> ErrorsAsync(Guid id, int afterRow, int limit, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand("""
            SELECT row_number, line, sku, columns, reason, stored FROM import_errors WHERE job_id = $1 AND row_number > $2 ORDER BY row_number LIMIT $3
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = afterRow });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var errors = new List<ImportError>();
        while (await reader.ReadAsync(ct))
            errors.Add(new ImportError(reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), reader.GetBoolean(5)));
        return errors;
    }, ct);

    /// <summary>Cancels a queued or running job; committed batches stay. False when it had already ended.</summary>
    public async Task<bool> CancelAsync(Guid id, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE import_jobs SET status = '{ImportStatus.Cancelled}', finished_at = now() WHERE id = $1 AND status IN ({ImportStatus.OpenSql})
            """);
        command.Parameters.Add(new() { Value = id });
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>
    /// Queues a failed job again from its committed resume point, running from the given upload (its own, or
    /// the same body uploaded again). Null when the job is not failed (it ended otherwise, or another call won).
    /// </summary>
    public async Task<ImportJob?> ResumeAsync(Guid id, string catalogPath, string? imagesPath, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE import_jobs SET status = '{ImportStatus.Queued}', error = NULL, finished_at = NULL, catalog_path = $2, images_path = $3
            WHERE id = $1 AND status = '{ImportStatus.Failed}'
            RETURNING {Columns}
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = catalogPath });
        command.Parameters.Add(new() { Value = (object?)imagesPath ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Records what the job's checks counted: from here on the job has a total.</summary>
    public async Task SetTotalAsync(Guid id, int totalRows, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("UPDATE import_jobs SET total_rows = $2 WHERE id = $1");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = totalRows });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Ends a running job as failed with a message for its owner (never the database's own text).</summary>
    public async Task FailAsync(Guid id, string error, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE import_jobs SET status = '{ImportStatus.Failed}', error = $2, finished_at = now() WHERE id = $1 AND status = '{ImportStatus.Running}'
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = FieldRules.Storable(error, ImportJob.MaxErrorLength) });
        await command.ExecuteNonQueryAsync(ct);
    }

    internal static ImportJob Read(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetFieldValue<byte[]>(2), r.GetString(3), r.GetString(4),
        r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.IsDBNull(7) ? null : r.GetInt32(7), r.GetInt32(8),
        r.GetInt32(9), r.GetInt32(10), r.GetInt32(11), r.GetInt32(12), r.GetInt32(13), r.IsDBNull(14) ? null : r.GetString(14),
        r.GetFieldValue<DateTimeOffset>(15), r.IsDBNull(16) ? null : r.GetFieldValue<DateTimeOffset>(16),
        r.IsDBNull(17) ? null : r.GetFieldValue<DateTimeOffset>(17),
        new ImportReading(r.IsDBNull(18) ? null : r.GetString(18), r.IsDBNull(19) ? null : r.GetString(19), r.GetString(20)), r.GetInt32(21), r.GetInt32(22),
        r.GetInt32(23), r.IsDBNull(24) ? null : r.GetString(24));
}
