using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Polly;
using Polly.Retry;
using Similarity.Catalog;
using Similarity.Database;
using Similarity.Encoders;

namespace Similarity.Imports;

/// <summary>How a run ended: the job reached its end, was cancelled, or another runner has it now.</summary>
public enum ImportRunEnd { Finished, Cancelled, TakenOver }

/// <summary>
/// Runs one import job from its committed resume point. First the upload's checks, which the request left to the
/// job so that its 202 is quick: the zip's entry count and paths, the row count, and (on a first run) the zip's
/// inflation; a failed check throws <see cref="InputRejectedException"/> naming its limit. Then rows in batches:
/// a producer validates each batch, reads its images from the zip, decodes them into a tensor and tokenises its
/// texts, while the current batch runs through the encoders and is written in one transaction together with the
/// job's progress and its rejected rows — so a crash loses at most the batch in flight and never writes a row
/// twice. A transient database fault retries the batch with backoff; past the retries it is thrown, and the
/// worker fails the job keeping its upload.
/// </summary>
public sealed partial class ImportJobRunner(
    NpgsqlDataSource dataSource, ImportStore store, EmbeddingPipeline pipeline, IOptions<ImportOptions> options, IOptions<InputLimits> limits,
    ILogger<ImportJobRunner> logger)
{
    sealed record Prepared(CatalogRow Row, ItemFields Fields, string Text, byte[] TextHash, byte[]? Image, byte[]? ImageHash)
    {
        public string Sku => Row.Item.Sku!;
    }

    sealed record Rejected(int Row, string? Sku, string Reason);

    sealed class BatchOutcome
    {
        public List<(Prepared Item, ItemVectors Vectors)> Embedded { get; } = [];
        public List<Prepared> Unchanged { get; } = [];
        public List<Rejected> Rejected { get; } = [];
        public int Superseded;
    }

    enum BatchWrite { Written, Cancelled, TakenOver }

    public async Task<ImportRunEnd> RunAsync(ImportJob job, CancellationToken ct)
    {
        var o = options.Value;
        var retry = RetryPipeline(job.Id);
        using var archive = job.ImagesPath is null ? null : ImageArchive.Open(job.ImagesPath, o, limits.Value.MaxImageBytes);

        // Counts the rows, and finds each SKU's last row: a SKU repeated in one catalog keeps its last row.
        // Deterministic, so a resumed job decides the same.
        var lastRow = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = 0;
        foreach (var row in CatalogRows.Read(job.CatalogPath, job.Format))
        {
            if (++rows > o.MaxRows)
                throw new InputRejectedException("catalog", $"The catalog has more than {o.MaxRows} rows (Similarity:Imports:MaxRows).", StatusCodes.Status413PayloadTooLarge);
            if (row.Item.Sku is { } sku)
                lastRow[sku] = row.Number;
        }
        if (job.TotalRows is null)
        {
            archive?.CheckInflation();
            await retry.ExecuteAsync(async ct => await store.SetTotalAsync(job.Id, rows, ct), ct);
        }

        // Two stages: while the models run and the database writes batch k, the next batch is validated, its
        // images read from the zip and decoded into a tensor, its texts tokenised — on other threads.
        var ready = Channel.CreateBounded<PreparedBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = Task.Run(() => ProduceAsync(job, lastRow, archive, retry, ready.Writer, stop.Token), stop.Token);
        var end = ImportRunEnd.Finished;
        var processed = job.ProcessedRows;
        try
        {
            await foreach (var prepared in ready.Reader.ReadAllAsync(stop.Token))
            {
                using (prepared)
                {
                    var outcome = Embed(prepared);
                    var written = await retry.ExecuteAsync(async ct => await WriteOnceAsync(job.Id, processed, prepared.RowCount, outcome, ct), stop.Token);
                    if (written != BatchWrite.Written)
                    {
                        end = written == BatchWrite.Cancelled ? ImportRunEnd.Cancelled : ImportRunEnd.TakenOver;
                        break;
                    }
                    processed += prepared.RowCount;
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
        if (end == ImportRunEnd.Finished)
            await retry.ExecuteAsync(async ct => await FinishAsync(job.Id, ct), ct);
        return end;
    }

    /// <summary>Retries on transient database faults with exponential backoff and jitter, logging each with the job's id.</summary>
    ResiliencePipeline RetryPipeline(Guid jobId)
    {
        var o = options.Value;
        var builder = new ResiliencePipelineBuilder();
        if (o.RetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(DatabaseFaults.IsTransient),
                MaxRetryAttempts = o.RetryAttempts,
                Delay = TimeSpan.FromMilliseconds(o.RetryDelayMilliseconds),
                MaxDelay = TimeSpan.FromSeconds(30),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = args =>
                {
                    // After a restart every idle pooled connection is dead: the retry must open a fresh one.
                    if (DatabaseFaults.IsConnectionLoss(args.Outcome.Exception!))
                        dataSource.Clear();
                    LogRetry(jobId, args.AttemptNumber + 1, DatabaseFaults.Describe(args.Outcome.Exception!), args.RetryDelay.TotalMilliseconds, args.Outcome.Exception!);
                    return default;
                },
            });
        }
        return builder.Build();
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

    async Task ProduceAsync(ImportJob job, Dictionary<string, int> lastRow, ImageArchive? archive, ResiliencePipeline retry,
        ChannelWriter<PreparedBatch> ready, CancellationToken ct)
    {
        try
        {
            foreach (var rows in CatalogRows.Read(job.CatalogPath, job.Format).Where(r => r.Number > job.ProcessedRows).Chunk(options.Value.BatchSize))
            {
                var prepared = await PrepareBatchAsync(rows, lastRow, archive, retry, ct);
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

    async Task<PreparedBatch> PrepareBatchAsync(CatalogRow[] rows, Dictionary<string, int> lastRow, ImageArchive? archive,
        ResiliencePipeline retry, CancellationToken ct)
    {
        var outcome = new BatchOutcome();
        var valid = new List<Prepared>();
        foreach (var row in rows)
        {
            if (row.Item.Sku is { } sku && lastRow.TryGetValue(sku, out var last) && last != row.Number)
            {
                outcome.Rejected.Add(new Rejected(row.Number, sku, $"superseded by row {last}"));
                outcome.Superseded++;
                continue;
            }
            if (Prepare(row, archive, out var reason) is { } item)
                valid.Add(item);
            else
                outcome.Rejected.Add(new Rejected(row.Number, row.Item.Sku, reason!));
        }

        // Unchanged content (same hashes, same model) is not embedded again.
        var skus = valid.Select(v => v.Sku).ToArray();
        var existing = await retry.ExecuteAsync(async ct => await ExistingHashesAsync(skus, ct), ct);
        var toEmbed = new List<Prepared>();
        foreach (var item in valid)
        {
            if (existing.TryGetValue(item.Sku, out var stored) && stored.Text.AsSpan().SequenceEqual(item.TextHash)
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
        reason = row.Problem;
        if (reason is not null)
            return null;
        // The same validation as PUT /items: a row it passes, the database takes.
        var validated = row.Item.Validate();
        if (validated.Value is not { } fields)
        {
            reason = validated.Reason;
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
                    outcome.Rejected.Add(new Rejected(item.Row.Number, item.Sku, $"Image '{item.Row.Image}': {error.Message}"));
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
                outcome.Rejected.Add(new Rejected(item.Row.Number, item.Sku, ex.Message));
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
    /// One transaction: embedded rows by binary COPY into a staging table that keeps the items table's CHECK
    /// constraints and column types, then one INSERT … ON CONFLICT that updates a row only where its content
    /// changed; unchanged rows' plain fields; the rejected rows; the job's progress. A row that breaks a database
    /// rule the validation does not know is found at the staging table, row by row, and rejected alone. Rows go
    /// in SKU order to make deadlocks between concurrent imports rare (the caller retries them). The progress
    /// update expects the job at <paramref name="processedBefore"/>: a runner that lost the job to another
    /// (its lock's connection died) writes nothing, and a retry after a commit whose answer was lost writes
    /// nothing twice.
    /// </summary>
    async Task<BatchWrite> WriteOnceAsync(Guid jobId, int processedBefore, int rowCount, BatchOutcome outcome, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var (inserted, updated) = (0, 0);
        var staged = outcome.Embedded.OrderBy(e => e.Item.Sku, StringComparer.Ordinal).ToList();
        var refused = new List<Rejected>();
        if (staged.Count > 0)
        {
            await using (var stage = new NpgsqlCommand(
                "CREATE TEMP TABLE import_stage (LIKE items INCLUDING DEFAULTS INCLUDING CONSTRAINTS) ON COMMIT DROP", connection, transaction))
                await stage.ExecuteNonQueryAsync(ct);
            await transaction.SaveAsync("batch", ct);
            try
            {
                await StageAsync(connection, staged, ct);
            }
            catch (PostgresException ex) when (BreaksARule(ex))
            {
                await transaction.RollbackAsync("batch", ct);
                foreach (var row in staged)
                {
                    await transaction.SaveAsync("row", ct);
                    try
                    {
                        await StageAsync(connection, [row], ct);
                        await transaction.ReleaseAsync("row", ct);
                    }
                    catch (PostgresException rowFault) when (BreaksARule(rowFault))
                    {
                        await transaction.RollbackAsync("row", ct);
                        refused.Add(new Rejected(row.Item.Row.Number, row.Item.Sku, rowFault.ConstraintName is { } rule
                            ? $"The row breaks the database rule {rule}."
                            : $"The row holds {DatabaseFaults.Describe(rowFault)}."));
                    }
                }
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
        var unchanged = outcome.Unchanged.Count + staged.Count - refused.Count - inserted - updated;
        if (outcome.Unchanged.Count > 0)
        {
            await using var plain = new NpgsqlCommand("""
                UPDATE items SET price = u.price, currency = u.currency, available = u.available, updated_at = now()
                FROM unnest($1::text[], $2::numeric[], $3::text[], $4::boolean[]) AS u(sku, price, currency, available)
                WHERE items.sku = u.sku AND (items.price IS DISTINCT FROM u.price OR items.currency IS DISTINCT FROM u.currency
                                             OR items.available IS DISTINCT FROM u.available)
                """, connection, transaction);
            var ordered = outcome.Unchanged.OrderBy(u => u.Sku, StringComparer.Ordinal).ToList();
            plain.Parameters.Add(new() { Value = ordered.Select(u => u.Sku).ToArray() });
            plain.Parameters.Add(new() { Value = ordered.Select(u => u.Fields.Price).ToArray() });
            plain.Parameters.Add(new() { Value = ordered.Select(u => u.Fields.Currency).ToArray() });
            plain.Parameters.Add(new() { Value = ordered.Select(u => u.Fields.Available).ToArray() });
            await plain.ExecuteNonQueryAsync(ct);
        }
        var rejected = outcome.Rejected.Concat(refused).ToList();
        if (rejected.Count > 0)
        {
            await using var errors = new NpgsqlCommand("""
                INSERT INTO import_errors (job_id, row_number, sku, reason)
                SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING
                """, connection, transaction);
            errors.Parameters.Add(new() { Value = jobId });
            errors.Parameters.Add(new() { Value = rejected.Select(r => r.Row).ToArray() });
            // What a row sent is quoted back; what the database cannot store of it (NUL) is replaced.
            errors.Parameters.Add(new() { Value = rejected.Select(r => r.Sku is null ? null : FieldRules.Storable(r.Sku, 200)).ToArray() });
            errors.Parameters.Add(new() { Value = rejected.Select(r => FieldRules.Storable(r.Reason)).ToArray() });
            await errors.ExecuteNonQueryAsync(ct);
        }
        await using var progress = new NpgsqlCommand("""
            WITH job AS (
                UPDATE import_jobs SET processed_rows = processed_rows + $2, inserted = inserted + $3, updated = updated + $4,
                       unchanged = unchanged + $5, superseded = superseded + $6, failed = failed + $7
                WHERE id = $1 AND status = 'running' AND processed_rows = $8 RETURNING 1),
            bump AS (UPDATE catalog_state SET revision = revision + 1 WHERE $3 + $4 > 0 AND EXISTS (SELECT 1 FROM job))
            SELECT count(*) FROM job
            """, connection, transaction);
        progress.Parameters.Add(new() { Value = jobId });
        progress.Parameters.Add(new() { Value = rowCount });
        progress.Parameters.Add(new() { Value = inserted });
        progress.Parameters.Add(new() { Value = updated });
        progress.Parameters.Add(new() { Value = unchanged });
        progress.Parameters.Add(new() { Value = outcome.Superseded });
        progress.Parameters.Add(new() { Value = rejected.Count - outcome.Superseded });
        progress.Parameters.Add(new() { Value = processedBefore });
        if ((long)(await progress.ExecuteScalarAsync(ct))! == 1)
        {
            await transaction.CommitAsync(ct);
            return BatchWrite.Written;
        }
        await transaction.RollbackAsync(ct);
        return await WhyNotWrittenAsync(connection, jobId, processedBefore + rowCount, ct);
    }

    static bool BreaksARule(PostgresException fault) =>
        fault.SqlState.StartsWith("22", StringComparison.Ordinal) || fault.SqlState.StartsWith("23", StringComparison.Ordinal);

    async Task StageAsync(NpgsqlConnection connection, List<(Prepared Item, ItemVectors Vectors)> rows, CancellationToken ct)
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
            await writer.WriteAsync(pipeline.Fingerprint, ct);
            await writer.WriteAsync(new Vector(vectors.Fused), ct);
            if (vectors.Image is null) await writer.WriteNullAsync(ct); else await writer.WriteAsync(new Vector(vectors.Image), ct);
            if (vectors.Text is null) await writer.WriteNullAsync(ct); else await writer.WriteAsync(new Vector(vectors.Text), ct);
            await writer.WriteAsync(vectors.ImageWeight, ct);
            await writer.WriteAsync(vectors.TextWeight, ct);
        }
        await writer.CompleteAsync(ct);
    }

    /// <summary>Cancelled; or written by an earlier attempt whose commit answer was lost; or taken over by another runner.</summary>
    static async Task<BatchWrite> WhyNotWrittenAsync(NpgsqlConnection connection, Guid jobId, int processedAfter, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT status, processed_rows FROM import_jobs WHERE id = $1", connection);
        command.Parameters.Add(new() { Value = jobId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct) || reader.GetString(0) == "cancelled")
            return BatchWrite.Cancelled;
        return reader.GetString(0) == "running" && reader.GetInt32(1) == processedAfter ? BatchWrite.Written : BatchWrite.TakenOver;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {JobId}: retry {Attempt} in {DelayMilliseconds:F0} ms after {Fault}")]
    partial void LogRetry(Guid jobId, int attempt, string fault, double delayMilliseconds, Exception exception);
}
