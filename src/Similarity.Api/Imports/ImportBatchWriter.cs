using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Catalog;
using Similarity.Database;
using Similarity.Hosting;

namespace Similarity.Imports;

/// <summary>
/// Writes one batch in one transaction: embedded rows by binary COPY into a staging table that keeps the items
/// table's CHECK constraints and column types, then one INSERT … ON CONFLICT that updates a row only where its
/// content changed; unchanged rows' plain fields; the downloaded pictures' answers; the rejected rows; the job's
/// progress. A row that breaks a database rule the validation does not know is found at the staging table (or at
/// the fields' update), row by row, and rejected alone. Rows go in SKU order to make deadlocks between concurrent
/// imports rare (the caller retries them). The progress update expects the job where this runner left it: a runner
/// that lost the job to another (its lock's connection died) writes nothing, and a retry after a commit whose
/// answer was lost writes nothing twice. It answers null when the batch is written, else how the job's run ends
/// (<see cref="ImportEnd.Cancelled"/> or <see cref="ImportEnd.TakenOver"/>).
/// </summary>
sealed class ImportBatchWriter(NpgsqlDataSource dataSource, SimilarityMetrics metrics)
{
    public async Task<ImportEnd?> WriteOnceAsync(Guid jobId, int processedBefore, int rowCount, BatchOutcome outcome, string fingerprint, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var ruleBreaking = new List<RejectedRow>();
        var (inserted, reembedded) = await WriteEmbeddedAsync(connection, transaction, outcome, fingerprint, ruleBreaking, ct);
        var updated = 0;
        if (outcome.Unchanged.Count > 0)
        {
            var ordered = outcome.Unchanged.OrderBy(u => u.Sku, StringComparer.Ordinal).ToList();
            await WriteRowsAloneOnRuleBreakAsync(transaction, ordered, async rows => updated += await UpdateFieldsAsync(connection, transaction, rows, fingerprint, ct),
                u => u.Row, ruleBreaking, ct);
        }
        // Rows another import embedded first count as unchanged here: they were written once, not twice.
        var unchanged = outcome.Unchanged.Count + outcome.Embedded.Count - ruleBreaking.Count - inserted - reembedded - updated;
        await ImportJobWrites.PictureSourcesAsync(connection, transaction, outcome.Downloaded, ct);
        var rejected = outcome.Rejected.Concat(ruleBreaking).ToList();
        await ImportJobWrites.RejectedRowsAsync(connection, transaction, jobId, rejected, ct);
        // A row stored without its picture is listed with the errors, counted as what was written for it and as a warning.
        var errors = rejected.Count(r => !r.Stored) - outcome.Superseded;
        var warnings = rejected.Count(r => r.Stored);
        var progress = new BatchProgress(rowCount, inserted, reembedded, updated, unchanged, outcome.Superseded, errors, warnings, outcome.Downloaded.Count);
        if (await ImportJobWrites.AdvanceAsync(connection, transaction, jobId, processedBefore, progress, ct))
        {
            await transaction.CommitAsync(ct);
            foreach (var (name, rows) in new[] { ("inserted", inserted), ("updated", updated), ("reembedded", reembedded), ("unchanged", unchanged),
                         ("superseded", outcome.Superseded), ("error", errors) })
                metrics.ImportRows.Add(rows, new KeyValuePair<string, object?>("outcome", name));
            return null;
        }
        await transaction.RollbackAsync(ct);
        return await ImportJobWrites.WhyNotWrittenAsync(connection, jobId, processedBefore + rowCount, ct);
    }

    /// <summary>The embedded rows, through the staging table: how many were inserted and how many re-embedded.</summary>
    static async Task<(int Inserted, int Reembedded)> WriteEmbeddedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        BatchOutcome outcome, string fingerprint, List<RejectedRow> ruleBreaking, CancellationToken ct)
    {
        var staged = outcome.Embedded.OrderBy(e => e.Item.Sku, StringComparer.Ordinal).ToList();
        if (staged.Count == 0)
            return (0, 0);
        await using (var stage = new NpgsqlCommand(
            "CREATE TEMP TABLE import_stage (LIKE items INCLUDING DEFAULTS INCLUDING CONSTRAINTS) ON COMMIT DROP", connection, transaction))
            await stage.ExecuteNonQueryAsync(ct);
        await WriteRowsAloneOnRuleBreakAsync(transaction, staged, async rows => await StageAsync(connection, rows, fingerprint, ct), e => e.Item.Row, ruleBreaking, ct);
        await using var upsert = new NpgsqlCommand($"""
            WITH written AS (
                INSERT INTO items ({CatalogStore.WrittenColumns})
                SELECT {CatalogStore.WrittenColumns} FROM import_stage ORDER BY sku
                ON CONFLICT (sku) DO UPDATE SET {CatalogStore.ReplaceFromExcluded}
                WHERE items.text_sha256 IS DISTINCT FROM EXCLUDED.text_sha256
                   OR items.image_sha256 IS DISTINCT FROM EXCLUDED.image_sha256
                   OR items.fingerprint IS DISTINCT FROM EXCLUDED.fingerprint
                RETURNING xmax = 0 AS inserted)
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
            """, connection, transaction);
        int inserted, reembedded;
        await using (var reader = await upsert.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (inserted, reembedded) = ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
        }
        // A row whose picture the server said was unchanged has its hash but no new copy: its stored one stays.
        await ItemPictures.WriteBatchAsync(connection, transaction,
            [.. staged.Select(e => (e.Item.Sku, e.Item.ImageHash, outcome.Pictures.GetValueOrDefault(e.Item.Sku)))], ct);
        return (inserted, reembedded);
    }

    /// <summary>
    /// Writes the rows at once; if one breaks a database rule the validation does not know, rolls that back and
    /// writes them one by one, each under its own savepoint, refusing only the rows that break it — so one row never
    /// fails the batch, and with it the job.
    /// </summary>
    static async Task WriteRowsAloneOnRuleBreakAsync<T>(NpgsqlTransaction transaction, List<T> rows, Func<List<T>, Task> write,
        Func<T, CatalogRow> rowOf, List<RejectedRow> ruleBreaking, CancellationToken ct)
    {
        await transaction.SaveAsync("batch", ct);
        try
        {
            await write(rows);
            await transaction.ReleaseAsync("batch", ct);
            return;
        }
        catch (PostgresException ex) when (BreaksARule(ex))
        {
            await transaction.RollbackAsync("batch", ct);
        }
        foreach (var row in rows)
        {
            await transaction.SaveAsync("row", ct);
            try
            {
                await write([row]);
                await transaction.ReleaseAsync("row", ct);
            }
            catch (PostgresException rowFault) when (BreaksARule(rowFault))
            {
                await transaction.RollbackAsync("row", ct);
                ruleBreaking.Add(new RejectedRow(rowOf(row), null, rowFault.ConstraintName is { } rule
                    ? $"The row breaks the database rule {rule}."
                    : $"The row holds {DatabaseFaults.Describe(rowFault)}."));
            }
        }
    }

    static bool BreaksARule(PostgresException fault) =>
        fault.SqlState.StartsWith("22", StringComparison.Ordinal) || fault.SqlState.StartsWith("23", StringComparison.Ordinal);

    /// <summary>The plain fields of the unchanged rows, by the catalog's unchanged-item rule; the count of rows that changed.</summary>
    static async Task<int> UpdateFieldsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<ImportItem> rows, string fingerprint, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand { Connection = connection, Transaction = transaction };
        command.CommandText = CatalogStore.UpdatePlainFieldsSql(command,
            [.. rows.Select(r => new PlainFieldsUpdate(r.Sku, r.Fields, r.ContentWith(fingerprint)))], onlyWhereChanged: true);
        return await command.ExecuteNonQueryAsync(ct);
    }

    static async Task StageAsync(NpgsqlConnection connection, List<(ImportItem Item, ItemVectors Vectors)> rows, string fingerprint, CancellationToken ct)
    {
        await using var writer = await connection.BeginBinaryImportAsync($"COPY import_stage ({CatalogStore.WrittenColumns}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var (item, vectors) in rows)
        {
            var f = item.Fields;
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(item.Sku, ct);
            await writer.WriteAsync(f.Title, ct);
            await writer.WriteAsync(f.Description, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(f.Category, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(f.Brand, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(f.Price, NpgsqlDbType.Numeric, ct);
            await writer.WriteAsync(f.Currency, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(f.Available, ct);
            await writer.WriteAsync(f.Attributes.GetRawText(), NpgsqlDbType.Jsonb, ct);
            await writer.WriteAsync(item.ImageHash, NpgsqlDbType.Bytea, ct);
            await writer.WriteAsync(item.TextHash, ct);
            await writer.WriteAsync(fingerprint, ct);
            await writer.WriteAsync(new Vector(vectors.Fused), ct);
            if (vectors.Image is null) await writer.WriteNullAsync(ct); else await writer.WriteAsync(new Vector(vectors.Image), ct);
            if (vectors.Text is null) await writer.WriteNullAsync(ct); else await writer.WriteAsync(new Vector(vectors.Text), ct);
            await writer.WriteAsync(vectors.ImageWeight, ct);
            await writer.WriteAsync(vectors.TextWeight, ct);
            await writer.WriteAsync(f.ImageUrl, NpgsqlDbType.Text, ct);
        }
        await writer.CompleteAsync(ct);
    }
}
