using Npgsql;
using Similarity.Catalog;

namespace Similarity.Imports;

/// <summary>What one batch adds to its job's counts.</summary>
sealed record BatchProgress(int Rows, int Inserted, int Reembedded, int Updated, int Unchanged, int Superseded, int Errors, int Warnings, int PicturesDownloaded);

/// <summary>
/// The job's side of a batch's transaction: the answers of the pictures it downloaded, its rejected rows, and its
/// progress; and the job's end. Every statement names the job's status it expects, so a cancelled job, or one
/// another runner took over, is never written as if it were still this runner's.
/// </summary>
static class ImportJobWrites
{
    /// <summary>One row per URL (two SKUs may share a picture), in URL order against deadlocks.</summary>
    public static async Task PictureSourcesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<PictureSource> downloaded, CancellationToken ct)
    {
        if (downloaded.Count == 0)
            return;
        var sources = downloaded.DistinctBy(d => d.Url).OrderBy(d => d.Url, StringComparer.Ordinal).ToList();
        await using var command = new NpgsqlCommand("""
            INSERT INTO picture_sources (url, etag, last_modified, sha256)
            SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bytea[])
            ON CONFLICT (url) DO UPDATE SET etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, sha256 = EXCLUDED.sha256, fetched_at = now()
            """, connection, transaction);
        command.Parameters.Add(new() { Value = sources.Select(d => d.Url).ToArray() });
        command.Parameters.Add(new() { Value = sources.Select(d => FieldRules.Storable(d.Validators.ETag ?? "", PictureSource.MaxETagLength) is { Length: > 0 } e ? e : null).ToArray() });
        command.Parameters.Add(new() { Value = sources.Select(d => d.Validators.LastModified).ToArray() });
        command.Parameters.Add(new() { Value = sources.Select(d => d.Sha256).ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The batch's rejected rows (warnings too); one written already, by an attempt whose commit answer was lost, stays.</summary>
    public static async Task RejectedRowsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, List<RejectedRow> rejected, CancellationToken ct)
    {
        if (rejected.Count == 0)
            return;
        await using var command = new NpgsqlCommand("""
            INSERT INTO import_errors (job_id, row_number, line, sku, columns, reason, stored)
            SELECT @job, * FROM unnest(@rows::integer[], @lines::integer[], @skus::text[], @columns::text[], @reasons::text[], @stored::boolean[])
            ON CONFLICT DO NOTHING
            """, connection, transaction);
        command.Parameters.AddWithValue("job", jobId);
        command.Parameters.AddWithValue("rows", rejected.Select(r => r.Row.Number).ToArray());
        command.Parameters.AddWithValue("lines", rejected.Select(r => r.Row.Line).ToArray());
        // What a row sent is quoted back; what the database cannot store of it (NUL) is replaced.
        command.Parameters.AddWithValue("skus", rejected.Select(r => r.Row.Item.Sku is { } sku ? FieldRules.Storable(sku, ImportError.MaxSkuLength) : null).ToArray());
        command.Parameters.AddWithValue("columns", rejected.Select(r => r.Columns is { } c ? FieldRules.Storable(c, ImportError.MaxColumnsLength) : null).ToArray());
        command.Parameters.AddWithValue("reasons", rejected.Select(r => FieldRules.Storable(r.Reason, ImportError.MaxReasonLength)).ToArray());
        command.Parameters.AddWithValue("stored", rejected.Select(r => r.Stored).ToArray());
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Adds the batch to the job's counts, and bumps the catalog revision when items changed; false (nothing written)
    /// unless the job is still running at <paramref name="processedBefore"/>.
    /// </summary>
    public static async Task<bool> AdvanceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid jobId, int processedBefore,
        BatchProgress batch, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"""
            WITH job AS (
                UPDATE import_jobs SET processed_rows = processed_rows + @rows, inserted = inserted + @inserted, reembedded = reembedded + @reembedded,
                       updated = updated + @updated, unchanged = unchanged + @unchanged, superseded = superseded + @superseded,
                       errors = errors + @errors, warnings = warnings + @warnings, pictures_downloaded = pictures_downloaded + @pictures
                WHERE id = @job AND status = '{ImportStatus.Running}' AND processed_rows = @processed_before RETURNING 1),
            bump AS (UPDATE catalog_state SET revision = revision + 1 WHERE @inserted + @reembedded + @updated > 0 AND EXISTS (SELECT 1 FROM job))
            SELECT count(*) FROM job
            """, connection, transaction);
        command.Parameters.AddWithValue("job", jobId);
        command.Parameters.AddWithValue("processed_before", processedBefore);
        command.Parameters.AddWithValue("rows", batch.Rows);
        command.Parameters.AddWithValue("inserted", batch.Inserted);
        command.Parameters.AddWithValue("reembedded", batch.Reembedded);
        command.Parameters.AddWithValue("updated", batch.Updated);
        command.Parameters.AddWithValue("unchanged", batch.Unchanged);
        command.Parameters.AddWithValue("superseded", batch.Superseded);
        command.Parameters.AddWithValue("errors", batch.Errors);
        command.Parameters.AddWithValue("warnings", batch.Warnings);
        command.Parameters.AddWithValue("pictures", batch.PicturesDownloaded);
        return (long)(await command.ExecuteScalarAsync(ct))! == 1;
    }

    /// <summary>Cancelled; or written (null) by an earlier attempt whose commit answer was lost; or taken over by another runner.</summary>
    public static async Task<ImportEnd?> WhyNotWrittenAsync(NpgsqlConnection connection, Guid jobId, int processedAfter, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT status, processed_rows FROM import_jobs WHERE id = $1", connection);
        command.Parameters.Add(new() { Value = jobId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct) || reader.GetString(0) == ImportStatus.Cancelled)
            return ImportEnd.Cancelled;
        return reader.GetString(0) == ImportStatus.Running && reader.GetInt32(1) == processedAfter ? null : ImportEnd.TakenOver;
    }

    /// <summary>Ends a running job that reached its last row: succeeded, or succeeded with errors when any row was rejected.</summary>
    public static async Task FinishAsync(NpgsqlDataSource dataSource, Guid jobId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE import_jobs SET status = CASE WHEN errors > 0 THEN '{ImportStatus.SucceededWithErrors}' ELSE '{ImportStatus.Succeeded}' END, finished_at = now()
            WHERE id = $1 AND status = '{ImportStatus.Running}'
            """);
        command.Parameters.Add(new() { Value = jobId });
        await command.ExecuteNonQueryAsync(ct);
    }
}
