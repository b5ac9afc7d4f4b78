using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Catalog;
using Similarity.Encoders;
using Similarity.Hosting;

namespace Similarity.Imports;

/// <summary>
/// Runs one import job from its committed resume point. Rows are read in batches: a producer validates each
/// batch, reads its images from the zip, decodes them into a tensor and tokenises its texts, while the current
/// batch runs through the encoders and is written in one transaction together with the job's progress and
/// its rejected rows — so a crash loses at most the batch in flight and never writes a row twice.
/// </summary>
public sealed partial class ImportJobRunner(
    NpgsqlDataSource dataSource, EmbeddingPipeline pipeline, EncoderCapacity capacity, IOptions<ImportOptions> options, IOptions<InputLimits> limits,
    ILogger<ImportJobRunner> logger)
{
    sealed record Prepared(CatalogRow Row, ItemFields Fields, string Text, byte[] TextHash, byte[]? Image, byte[]? ImageHash);

    sealed record Rejected(int Row, string? Sku, string Reason);

    sealed class BatchOutcome
    {
        public List<(Prepared Item, ItemVectors Vectors)> Embedded { get; } = [];
        public List<Prepared> Unchanged { get; } = [];
        public List<Rejected> Rejected { get; } = [];
        public int Superseded;
    }

    public async Task RunAsync(ImportJob job, CancellationToken ct)
    {
        using var archive = job.ImagesPath is null ? null : ImageArchive.Open(job.ImagesPath, options.Value, limits.Value.MaxImageBytes);

        // A SKU repeated in one catalog: its last row wins. Deterministic, so a resumed job decides the same.
        var lastRow = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in CatalogRows.Read(job.CatalogPath, job.Format))
        {
            if (row.Sku is { } sku)
                lastRow[sku] = row.Number;
        }

        // Two stages: while the models run and the database writes batch k, the next batch is validated, its
        // images read from the zip and decoded into a tensor, its texts tokenised — on other threads.
        var ready = Channel.CreateBounded<PreparedBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = Task.Run(() => ProduceAsync(job, lastRow, archive, ready.Writer, stop.Token), stop.Token);
        var completed = true;
        try
        {
            await foreach (var prepared in ready.Reader.ReadAllAsync(stop.Token))
            {
                using (prepared)
                {
                    BatchOutcome embedded;
                    using (await capacity.AcquireImportShareAsync(stop.Token)) // the encoders are shared with the API
                        embedded = Embed(prepared);
                    if (!await WriteAsync(job.Id, prepared.RowCount, embedded, stop.Token))
                    {
                        completed = false; // cancelled: stop reading
                        break;
                    }
                }
            }
        }
        finally
        {
            stop.Cancel();
            try
            {
                await producer;
            }
            catch (OperationCanceledException)
            {
            }
            while (ready.Reader.TryRead(out var left))
                left.Dispose();
        }
        if (completed)
            await FinishAsync(job.Id, ct);
    }

    /// <summary>A batch ready for the models: its outcome so far, the items to embed, their decoded images and tokens.</summary>
    sealed class PreparedBatch(int rowCount, BatchOutcome outcome, List<Prepared> toEmbed, List<Prepared> withImage,
        ImageEncoder.DecodedBatch? images, int[][] tokens) : IDisposable
    {
        public int RowCount => rowCount;
        public BatchOutcome Outcome => outcome;
        public List<Prepared> ToEmbed => toEmbed;
        public List<Prepared> WithImage => withImage;
        public ImageEncoder.DecodedBatch? Images => images;
        public int[][] Tokens => tokens;

        public void Dispose() => images?.Dispose();
    }

    async Task ProduceAsync(ImportJob job, Dictionary<string, int> lastRow, ImageArchive? archive, ChannelWriter<PreparedBatch> ready, CancellationToken ct)
    {
        try
        {
            foreach (var rows in CatalogRows.Read(job.CatalogPath, job.Format).Where(r => r.Number > job.ProcessedRows).Chunk(options.Value.BatchSize))
            {
                var prepared = await PrepareBatchAsync(rows, lastRow, archive, ct);
                try
                {
                    await ready.WriteAsync(prepared, ct);
                }
                catch
                {
                    prepared.Dispose();
                    throw;
                }
            }
            ready.Complete();
        }
        catch (Exception ex)
        {
            ready.Complete(ex);
        }
    }

    async Task<PreparedBatch> PrepareBatchAsync(CatalogRow[] rows, Dictionary<string, int> lastRow, ImageArchive? archive, CancellationToken ct)
    {
        var outcome = new BatchOutcome();
        var valid = new List<Prepared>();
        foreach (var row in rows)
        {
            if (row.Sku is { } sku && lastRow.TryGetValue(sku, out var last) && last != row.Number)
            {
                outcome.Rejected.Add(new Rejected(row.Number, sku, $"superseded by row {last}"));
                outcome.Superseded++;
                continue;
            }
            if (Prepare(row, archive, out var reason) is { } item)
                valid.Add(item);
            else
                outcome.Rejected.Add(new Rejected(row.Number, row.Sku, reason!));
        }

        // Unchanged content (same hashes, same model) is not embedded again.
        var existing = await ExistingHashesAsync(valid.Select(v => v.Row.Sku!).ToArray(), ct);
        var toEmbed = new List<Prepared>();
        foreach (var item in valid)
        {
            if (existing.TryGetValue(item.Row.Sku!, out var stored) && stored.Text.AsSpan().SequenceEqual(item.TextHash)
                && (stored.Image ?? []).AsSpan().SequenceEqual(item.ImageHash ?? []) && stored.Image is null == item.ImageHash is null
                && stored.Fingerprint == pipeline.Fingerprint)
                outcome.Unchanged.Add(item);
            else
                toEmbed.Add(item);
        }
        var withImage = toEmbed.Where(i => i.Image is not null).ToList();
        var images = withImage.Count == 0 ? null : pipeline.Image.Decode([.. withImage.Select(i => i.Image!)]);
        var tokens = toEmbed.Select(i => pipeline.Text.Preprocessor.Encode(i.Text)).ToArray();
        return new PreparedBatch(rows.Length, outcome, toEmbed, withImage, images, tokens);
    }

    /// <summary>The row ready to embed, or null with the reason it is rejected.</summary>
    Prepared? Prepare(CatalogRow row, ImageArchive? archive, out string? reason)
    {
        reason = null;
        var errors = ItemForm.Validate(row.Sku ?? "", row.Title, row.Description, row.Category, row.Brand, row.Price, row.Currency,
            row.Available, row.Attributes, out var fields);
        if (errors.Count > 0)
        {
            reason = string.Join(" ", errors.Values.SelectMany(e => e));
            return null;
        }
        byte[]? image = null;
        if (row.Image is { } entry)
        {
            if (archive is null)
            {
                reason = $"The row names image '{entry}' but the upload has no images zip.";
                return null;
            }
            try
            {
                image = archive.Read(entry);
                if (image is null)
                {
                    reason = $"The image '{entry}' is not in the zip.";
                    return null;
                }
                pipeline.Image.Preprocessor.Check(image, "image");
            }
            catch (InputRejectedException ex)
            {
                reason = $"Image '{entry}': {ex.Message}";
                return null;
            }
        }
        var text = CatalogText.Compose(fields.Title, fields.Brand, fields.Category, fields.Attributes, fields.Description);
        return new Prepared(row, fields, text, CatalogText.Hash(text), image, image is null ? null : System.Security.Cryptography.SHA256.HashData(image));
    }

    /// <summary>
    /// The batch's images, then its texts, through their encoders, then fusion item by item. One encoder at a
    /// time: each already uses every core, and two running at once only contend (docs/benchmarks.md).
    /// </summary>
    BatchOutcome Embed(PreparedBatch batch)
    {
        var outcome = batch.Outcome;
        var items = batch.ToEmbed;
        if (items.Count == 0)
            return outcome;
        var images = batch.Images?.Run() ?? [];
        var texts = pipeline.Text.RunBatch(batch.Tokens);
        var imageOf = batch.WithImage.Select((item, index) => (item, index)).ToDictionary(p => p.item, p => images[p.index]);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            float[]? imageVector = null;
            if (imageOf.TryGetValue(item, out var imageOutcome))
            {
                if (imageOutcome.Error is { } error)
                {
                    outcome.Rejected.Add(new Rejected(item.Row.Number, item.Row.Sku, $"Image '{item.Row.Image}': {error.Message}"));
                    continue;
                }
                imageVector = imageOutcome.Value;
            }
            var fusion = pipeline.Fusion.Fuse(imageVector, texts[i].Value);
            try
            {
                VectorGuard.Check(fusion.Fused, item.Image is null ? "title" : "image");
            }
            catch (InputRejectedException ex)
            {
                outcome.Rejected.Add(new Rejected(item.Row.Number, item.Row.Sku, ex.Message));
                continue;
            }
            outcome.Embedded.Add((item, new ItemVectors(fusion.Fused, fusion.Image, fusion.Text, fusion.ImageWeight, fusion.TextWeight)));
        }
        return outcome;
    }

    async Task<Dictionary<string, (byte[] Text, byte[]? Image, string Fingerprint)>> ExistingHashesAsync(string[] skus, CancellationToken ct)
    {
        var found = new Dictionary<string, (byte[], byte[]?, string)>(StringComparer.Ordinal);
        if (skus.Length == 0)
            return found;
        await using var command = dataSource.CreateCommand("SELECT sku, text_sha256, image_sha256, fingerprint FROM items WHERE sku = ANY($1)");
        command.Parameters.Add(new() { Value = skus });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            found[reader.GetString(0)] = (reader.GetFieldValue<byte[]>(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2), reader.GetString(3));
        return found;
    }

    /// <summary>
    /// One transaction: embedded rows by binary COPY into a staging table, then one INSERT … ON CONFLICT that
    /// updates a row only where its content changed; unchanged rows' plain fields; the rejected rows; the job's
    /// progress. Deadlocks between concurrent imports are retried; rows go in SKU order to make them rare.
    /// </summary>
    async Task<bool> WriteAsync(Guid jobId, int rowCount, BatchOutcome outcome, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await WriteOnceAsync(jobId, rowCount, outcome, ct);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure && attempt < 10)
            {
                LogRetry(jobId, attempt, ex.SqlState);
            }
        }
    }

    async Task<bool> WriteOnceAsync(Guid jobId, int rowCount, BatchOutcome outcome, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var (inserted, updated) = (0, 0);
        if (outcome.Embedded.Count > 0)
        {
            await using (var stage = new NpgsqlCommand("CREATE TEMP TABLE import_stage (LIKE items INCLUDING DEFAULTS) ON COMMIT DROP", connection, transaction))
                await stage.ExecuteNonQueryAsync(ct);
            await using (var writer = await connection.BeginBinaryImportAsync(
                $"COPY import_stage ({CatalogStore.WrittenColumns}) FROM STDIN (FORMAT BINARY)", ct))
            {
                foreach (var (item, vectors) in outcome.Embedded.OrderBy(e => e.Item.Row.Sku, StringComparer.Ordinal))
                {
                    var f = item.Fields;
                    await writer.StartRowAsync(ct);
                    await writer.WriteAsync(item.Row.Sku!, ct);
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
                    await writer.WriteAsync(pipeline.Fingerprint, ct);
                    await writer.WriteAsync(new Vector(vectors.Fused), ct);
                    if (vectors.Image is null) await writer.WriteNullAsync(ct); else await writer.WriteAsync(new Vector(vectors.Image), ct);
                    if (vectors.Text is null) await writer.WriteNullAsync(ct); else await writer.WriteAsync(new Vector(vectors.Text), ct);
                    await writer.WriteAsync(vectors.ImageWeight, ct);
                    await writer.WriteAsync(vectors.TextWeight, ct);
                }
                await writer.CompleteAsync(ct);
            }
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
            await using var reader = await upsert.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            (inserted, updated) = ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
        }
        // Rows another import embedded first count as unchanged here: they were written once, not twice.
        var unchanged = outcome.Unchanged.Count + outcome.Embedded.Count - inserted - updated;
        if (outcome.Unchanged.Count > 0)
        {
            await using var plain = new NpgsqlCommand("""
                UPDATE items SET price = u.price, currency = u.currency, available = u.available, updated_at = now()
                FROM unnest($1::text[], $2::numeric[], $3::text[], $4::boolean[]) AS u(sku, price, currency, available)
                WHERE items.sku = u.sku AND (items.price IS DISTINCT FROM u.price OR items.currency IS DISTINCT FROM u.currency
                                             OR items.available IS DISTINCT FROM u.available)
                """, connection, transaction);
            var ordered = outcome.Unchanged.OrderBy(u => u.Row.Sku, StringComparer.Ordinal).ToList();
            plain.Parameters.Add(new() { Value = ordered.Select(u => u.Row.Sku!).ToArray() });
            plain.Parameters.Add(new() { Value = ordered.Select(u => u.Fields.Price).ToArray() });
            plain.Parameters.Add(new() { Value = ordered.Select(u => u.Fields.Currency).ToArray() });
            plain.Parameters.Add(new() { Value = ordered.Select(u => u.Fields.Available).ToArray() });
            await plain.ExecuteNonQueryAsync(ct);
        }
        if (outcome.Rejected.Count > 0)
        {
            await using var errors = new NpgsqlCommand("""
                INSERT INTO import_errors (job_id, row_number, sku, reason)
                SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING
                """, connection, transaction);
            errors.Parameters.Add(new() { Value = jobId });
            errors.Parameters.Add(new() { Value = outcome.Rejected.Select(r => r.Row).ToArray() });
            errors.Parameters.Add(new() { Value = outcome.Rejected.Select(r => r.Sku).ToArray() });
            errors.Parameters.Add(new() { Value = outcome.Rejected.Select(r => r.Reason).ToArray() });
            await errors.ExecuteNonQueryAsync(ct);
        }
        await using var progress = new NpgsqlCommand("""
            WITH job AS (
                UPDATE import_jobs SET processed_rows = processed_rows + $2, inserted = inserted + $3, updated = updated + $4,
                       unchanged = unchanged + $5, superseded = superseded + $6, failed = failed + $7
                WHERE id = $1 AND status = 'running' RETURNING 1),
            bump AS (UPDATE catalog_state SET revision = revision + 1 WHERE $3 + $4 > 0 AND EXISTS (SELECT 1 FROM job))
            SELECT count(*) FROM job
            """, connection, transaction);
        progress.Parameters.Add(new() { Value = jobId });
        progress.Parameters.Add(new() { Value = rowCount });
        progress.Parameters.Add(new() { Value = inserted });
        progress.Parameters.Add(new() { Value = updated });
        progress.Parameters.Add(new() { Value = unchanged });
        progress.Parameters.Add(new() { Value = outcome.Superseded });
        progress.Parameters.Add(new() { Value = outcome.Rejected.Count - outcome.Superseded });
        if ((long)(await progress.ExecuteScalarAsync(ct))! == 0)
        {
            await transaction.RollbackAsync(ct);
            return false; // cancelled: this batch is not written
        }
        await transaction.CommitAsync(ct);
        return true;
    }

    async Task FinishAsync(Guid jobId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE import_jobs SET status = CASE WHEN failed > 0 THEN 'succeeded_with_errors' ELSE 'succeeded' END, finished_at = now()
            WHERE id = $1 AND status = 'running'
            """);
        command.Parameters.Add(new() { Value = jobId });
        await command.ExecuteNonQueryAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {JobId}: batch write retried after {SqlState} (attempt {Attempt})")]
    partial void LogRetry(Guid jobId, int attempt, string sqlState);
}
