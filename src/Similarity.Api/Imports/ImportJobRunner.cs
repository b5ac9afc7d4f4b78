using System.Security.Cryptography;
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
using Similarity.Hosting;
using Similarity.Models;
using Similarity.Imports.Formats;
using Similarity.Imports.Pictures;

namespace Similarity.Imports;

/// <summary>How a run ended: the job reached its end, was cancelled, or another runner has it now.</summary>
public enum ImportRunEnd { Finished, Cancelled, TakenOver }

/// <summary>
/// Runs one import job from its committed resume point. First the upload's checks, which the request left to the
/// job so that its 202 is quick: the catalog's format and mapping, the zip's entry count and paths, the row count,
/// and (on a first run) the zip's inflation; a failed check throws <see cref="InputRejectedException"/> naming its
/// limit. Then rows in batches, through three stages that overlap: the first validates a batch and starts
/// downloading its pictures given by URL (several batches ahead, so no slow host holds the encoders); the second
/// waits for those downloads, reads zip pictures, decodes them into a tensor and tokenises the texts; the last runs
/// the encoders and writes the batch in one transaction together with the job's progress and its row errors — so a
/// crash loses at most the batch in flight and never writes a row twice. A transient database fault retries the
/// batch with backoff; past the retries it is thrown, and the worker fails the job keeping its upload.
/// </summary>
public sealed partial class ImportJobRunner(
    NpgsqlDataSource dataSource, ImportStore store, ModelSets models, PictureFetcher pictures, IOptions<ImportOptions> options,
    IOptions<ImageFetchOptions> fetchOptions, IOptions<InputLimits> limits, EncoderCapacity capacity, SimilarityMetrics metrics, ILogger<ImportJobRunner> logger)
{
    /// <summary>
    /// The live set's encoders. The same throughout a job: an activation is refused while a job is queued or running
    /// (ModelSets.ActivateAsync), and a job claimed after one finds the new set live.
    /// </summary>
    EmbeddingPipeline Pipeline => models.Live.Pipeline;

    /// <summary>Batches whose pictures download while earlier ones are decoded and encoded.</summary>
    const int DownloadAhead = 3;

    sealed record Prepared(CatalogRow Row, ItemFields Fields, string Text, byte[] TextHash, byte[]? Image, byte[]? ImageHash)
    {
        public string Sku => Row.Item.Sku!;
    }

    /// <summary>A row error: <see cref="Stored"/> when the row was kept all the same, without its picture.</summary>
    sealed record Rejected(CatalogRow Row, string? Columns, string Reason, bool Stored = false)
    {
        /// <summary>A row error naming, in the file's own words, the columns behind our <paramref name="fields"/>.</summary>
        public static Rejected Naming(CatalogRow row, string reason, params string[] fields) =>
            new(row, fields.Length == 0 ? null : string.Join(", ", fields.Select(row.ColumnOf).Distinct()), reason);
    }

    /// <summary>A picture downloaded this run: remembered so the next import of the same URL asks whether it changed.</summary>
    sealed record PictureSource(string Url, PictureValidators Validators, byte[] Sha256);

    sealed class BatchOutcome
    {
        public List<(Prepared Item, ItemVectors Vectors)> Embedded { get; } = [];
        public List<Prepared> Unchanged { get; } = [];
        public List<Rejected> Rejected { get; } = [];
        public List<PictureSource> Downloaded { get; } = [];
        /// <summary>The stored copies of the embedded rows' pictures, by SKU.</summary>
        public Dictionary<string, NormalisedPicture> Pictures { get; } = new(StringComparer.Ordinal);
        public int Superseded;
    }

    enum BatchWrite { Written, Cancelled, TakenOver }

    public async Task<ImportRunEnd> RunAsync(ImportJob job, CancellationToken ct)
    {
        var o = options.Value;
        var retry = RetryPipeline(job.Id);
        var (layout, mapping) = job.Reading.Open(job.CatalogPath);
        using var archive = job.ImagesPath is null ? null : ImageArchive.Open(job.ImagesPath, o, limits.Value.MaxImageBytes);

        // Counts the rows, and finds each SKU's last row: a SKU repeated in one catalog keeps its last row.
        // Deterministic, so a resumed job decides the same.
        var lastRow = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = 0;
        foreach (var row in CatalogRows.Read(job.CatalogPath, layout, mapping))
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

        var fetching = Channel.CreateBounded<FetchingBatch>(new BoundedChannelOptions(DownloadAhead) { SingleReader = true, SingleWriter = true });
        var ready = Channel.CreateBounded<PreparedBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var downloads = new SemaphoreSlim(fetchOptions.Value.MaxConcurrentDownloads);
        var batches = CatalogRows.Read(job.CatalogPath, layout, mapping).Where(r => r.Number > job.ProcessedRows).Chunk(o.BatchSize);
        var stages = new[]
        {
            Task.Run(() => Stage(fetching.Writer, batches.ToAsyncEnumerable(), rows => StartBatchAsync(rows, lastRow, job.Reading, retry, downloads, stop.Token), stop.Token), stop.Token),
            Task.Run(() => Stage(ready.Writer, fetching.Reader.ReadAllAsync(stop.Token), batch => PrepareBatchAsync(batch, archive, job.Reading, stop.Token), stop.Token), stop.Token),
        };
        var end = ImportRunEnd.Finished;
        var processed = job.ProcessedRows;
        try
        {
            await foreach (var prepared in ready.Reader.ReadAllAsync(stop.Token))
            {
                await using (prepared)
                {
                    BatchOutcome outcome;
                    using (await capacity.AcquireImportShareAsync(stop.Token)) // the encoders are shared with the API
                        outcome = Embed(prepared);
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
            foreach (var stage in stages)
            {
                try
                {
                    await stage;
                }
                catch (OperationCanceledException)
                {
                }
            }
            while (fetching.Reader.TryRead(out var left))
                await left.DisposeAsync();
            while (ready.Reader.TryRead(out var left))
                await left.DisposeAsync();
        }
        if (end == ImportRunEnd.Finished)
            await retry.ExecuteAsync(async ct => await FinishAsync(job.Id, ct), ct);
        return end;
    }

    /// <summary>
    /// One stage of the pipeline: turns each input into an output for the next stage. Its failure completes the
    /// channel with it, so the stage after it (and finally the writer) sees the error; an output that could not be
    /// handed on is released.
    /// </summary>
    static async Task Stage<TIn, TOut>(ChannelWriter<TOut> output, IAsyncEnumerable<TIn> inputs, Func<TIn, Task<TOut>> work, CancellationToken ct)
        where TOut : IAsyncDisposable
    {
        try
        {
            await foreach (var input in inputs.WithCancellation(ct))
            {
                var result = await work(input);
                try
                {
                    await output.WriteAsync(result, ct);
                }
                catch
                {
                    await result.DisposeAsync();
                    throw;
                }
            }
            output.Complete();
        }
        catch (Exception ex)
        {
            output.Complete(ex);
        }
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

    /// <summary>A batch whose rows are validated and whose pictures by URL are downloading.</summary>
    sealed class FetchingBatch(CatalogRow[] rows, BatchOutcome outcome, List<Prepared> valid, Dictionary<string, Existing> existing,
        Dictionary<Prepared, Task<PictureFetch>> downloads) : IAsyncDisposable
    {
        public CatalogRow[] Rows => rows;
        public BatchOutcome Outcome => outcome;
        public List<Prepared> Valid => valid;
        public Dictionary<string, Existing> Existing => existing;
        public Dictionary<Prepared, Task<PictureFetch>> Downloads => downloads;

        /// <summary>Waits for downloads still running (they stop when the job's token is cancelled).</summary>
        public async ValueTask DisposeAsync()
        {
            foreach (var download in downloads.Values)
            {
                try
                {
                    await download;
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>A batch ready for the models: its outcome so far, the items to embed and their decoded pictures and tokens.</summary>
    sealed class PreparedBatch(int rowCount, BatchOutcome outcome, List<Prepared> toEmbed, EmbeddingBatch embedding) : IAsyncDisposable
    {
        public int RowCount => rowCount;
        public BatchOutcome Outcome => outcome;
        public List<Prepared> ToEmbed => toEmbed;
        public EmbeddingBatch Embedding => embedding;

        public ValueTask DisposeAsync()
        {
            embedding.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Validates a batch, looks up what is stored for its SKUs and starts downloading the pictures given by URL — a
    /// conditional request where the item, its text and its picture's last download say the picture may be unchanged.
    /// </summary>
    async Task<FetchingBatch> StartBatchAsync(CatalogRow[] rows, Dictionary<string, int> lastRow, ImportReading reading,
        ResiliencePipeline retry, SemaphoreSlim downloads, CancellationToken ct)
    {
        var outcome = new BatchOutcome();
        var valid = new List<Prepared>();
        foreach (var row in rows)
        {
            if (row.Item.Sku is { } sku && lastRow.TryGetValue(sku, out var last) && last != row.Number)
            {
                outcome.Rejected.Add(Rejected.Naming(row, $"superseded by row {last}"));
                outcome.Superseded++;
                continue;
            }
            if (Validate(row) is { } item)
                valid.Add(item);
            else
                outcome.Rejected.Add(RejectionOf(row));
        }
        var skus = valid.Select(v => v.Sku).ToArray();
        // The validated address (its scheme in lower case) is the one stored, so it is the one fetched and compared.
        var urls = valid.Where(v => v.Row.Image is null && v.Fields.ImageUrl is not null).Select(v => v.Fields.ImageUrl!).Distinct().ToArray();
        var existing = await retry.ExecuteAsync(async ct => await ExistingAsync(skus, urls, ct), ct);
        var started = new Dictionary<Prepared, Task<PictureFetch>>();
        foreach (var item in valid)
        {
            if (item.Row.Image is not null || item.Fields.ImageUrl is not { } url)
                continue;
            // Ask whether the picture changed only when nothing else would make the item be embedded again.
            var known = existing.TryGetValue(item.Sku, out var stored) && stored.Source is { } source && stored.ImageUrl == url
                && stored.Fingerprint == Pipeline.Fingerprint && stored.Text.AsSpan().SequenceEqual(item.TextHash)
                && source.Sha256.AsSpan().SequenceEqual(stored.Image ?? [])
                ? source.Validators : null;
            started[item] = DownloadAsync(url, known, downloads, ct);
        }
        return new FetchingBatch(rows, outcome, valid, existing, started);
    }

    async Task<PictureFetch> DownloadAsync(string url, PictureValidators? known, SemaphoreSlim downloads, CancellationToken ct)
    {
        await downloads.WaitAsync(ct);
        try
        {
            return await pictures.FetchAsync(url, known, ct);
        }
        finally
        {
            downloads.Release();
        }
    }

    /// <summary>
    /// Takes a batch's downloads as they come, reads its zip pictures, decides which items changed (same hashes, same
    /// model: not embedded again), decodes the changed ones' pictures into a tensor and tokenises their texts.
    /// </summary>
    async Task<PreparedBatch> PrepareBatchAsync(FetchingBatch batch, ImageArchive? archive, ImportReading reading, CancellationToken ct)
    {
        var outcome = batch.Outcome;
        var ready = new List<Prepared>();
        foreach (var item in batch.Valid)
        {
            var picture = batch.Downloads.TryGetValue(item, out var download)
                ? PictureByUrl(item, await download, batch.Existing, reading, outcome)
                : PictureFromZip(item, archive, outcome);
            if (picture is not null)
                ready.Add(picture);
        }
        var toEmbed = new List<Prepared>();
        foreach (var item in ready)
        {
            if (batch.Existing.TryGetValue(item.Sku, out var stored) && stored.Text.AsSpan().SequenceEqual(item.TextHash)
                && (stored.Image ?? []).AsSpan().SequenceEqual(item.ImageHash ?? []) && stored.Image is null == item.ImageHash is null
                && stored.Fingerprint == Pipeline.Fingerprint)
                outcome.Unchanged.Add(item);
            else
                toEmbed.Add(item);
        }
        ct.ThrowIfCancellationRequested();
        var embedding = Pipeline.PrepareBatch([.. toEmbed.Select(i => new EmbeddingInput(i.Image, i.Text))]);
        return new PreparedBatch(batch.Rows.Length, outcome, toEmbed, embedding);
    }

    /// <summary>The row validated like PUT /items (a row it passes, the database takes), before its picture is known.</summary>
    static Prepared? Validate(CatalogRow row)
    {
        if (row.Problem is not null || row.Item.Validate().Value is not { } fields)
            return null;
        var text = CatalogText.Of(fields);
        return new Prepared(row, fields, text, CatalogText.Hash(text), null, null);
    }

    /// <summary>Why a row did not validate, naming the file's columns at fault.</summary>
    static Rejected RejectionOf(CatalogRow row)
    {
        if (row.Problem is not null)
            return new Rejected(row, row.ProblemColumns, row.Problem);
        var errors = row.Item.Validate();
        return Rejected.Naming(row, errors.Reason, [.. errors.Errors.Keys]);
    }

    /// <summary>The item with its zip picture read and checked, or null (rejected) when the picture is missing or bad.</summary>
    Prepared? PictureFromZip(Prepared item, ImageArchive? archive, BatchOutcome outcome)
    {
        if (item.Row.Image is not { } entry)
            return item;
        if (archive is null)
        {
            outcome.Rejected.Add(Rejected.Naming(item.Row, $"The row names image '{entry}' but the upload has no images zip.", "image"));
            return null;
        }
        try
        {
            var image = archive.Read(entry);
            if (image is null)
            {
                outcome.Rejected.Add(Rejected.Naming(item.Row, $"The image '{entry}' is not in the zip.", "image"));
                return null;
            }
            Pipeline.Image.Preprocessor.Check(image, "image");
            return item with { Image = image, ImageHash = SHA256.HashData(image) };
        }
        catch (InputRejectedException ex)
        {
            outcome.Rejected.Add(Rejected.Naming(item.Row, $"Image '{entry}': {ex.Message}", "image"));
            return null;
        }
    }

    /// <summary>
    /// The item with its downloaded picture; the stored picture's hash when the server says it is unchanged; without a
    /// picture (and a row error saying so) when it could not be had and the admin asked for textOnly; else null.
    /// </summary>
    Prepared? PictureByUrl(Prepared item, PictureFetch fetch, Dictionary<string, Existing> existing, ImportReading reading, BatchOutcome outcome)
    {
        var url = item.Fields.ImageUrl!;
        string reason;
        switch (fetch)
        {
            case PictureFetch.NotModified:
                return item with { ImageHash = existing[item.Sku].Image };
            case PictureFetch.Fetched fetched:
                var hash = SHA256.HashData(fetched.Bytes);
                outcome.Downloaded.Add(new PictureSource(url, fetched.Validators, hash));
                try
                {
                    Pipeline.Image.Preprocessor.Check(fetched.Bytes, "image");
                    return item with { Image = fetched.Bytes, ImageHash = hash };
                }
                catch (InputRejectedException ex)
                {
                    reason = ex.Message;
                }
                break;
            case PictureFetch.Failed failed:
                reason = failed.Reason;
                break;
            default:
                throw new InvalidOperationException($"Unknown picture outcome {fetch}.");
        }
        var column = item.Row.ColumnOf(CatalogField.ImageUrl);
        if (reading.MissingImage == ImportReading.TextOnly)
        {
            outcome.Rejected.Add(new Rejected(item.Row, column, $"{url}: {reason}; stored without a picture (missingImage=textOnly).", Stored: true));
            return item;
        }
        outcome.Rejected.Add(new Rejected(item.Row, column, $"{url}: {reason}"));
        return null;
    }

    /// <summary>The batch through <see cref="EmbeddingPipeline.EmbedBatch(EmbeddingBatch)"/>, each item's vectors checked.</summary>
    BatchOutcome Embed(PreparedBatch batch)
    {
        var outcome = batch.Outcome;
        var items = batch.ToEmbed;
        if (items.Count == 0)
            return outcome;
        var embedded = Pipeline.EmbedBatch(batch.Embedding);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (embedded[i] is { Error: { } error })
            {
                RejectPicture(item, error.Message);
                continue;
            }
            var fusion = embedded[i].Value!;
            try
            {
                VectorGuard.Check(fusion.Fused, item.Image is null ? "title" : "image");
            }
            catch (InputRejectedException ex)
            {
                outcome.Rejected.Add(Rejected.Naming(item.Row, ex.Message, item.Image is null ? CatalogField.Title : CatalogField.Image));
                continue;
            }
            if (item.Image is not null)
            {
                try
                {
                    outcome.Pictures[item.Sku] = Pipeline.Image.Preprocessor.Normalise(item.Image, "image");
                }
                catch (InputRejectedException ex)
                {
                    RejectPicture(item, ex.Message);
                    continue;
                }
            }
            outcome.Embedded.Add((item, new ItemVectors(fusion.Fused, fusion.Image, fusion.Text, fusion.ImageWeight, fusion.TextWeight)));
        }
        return outcome;

        void RejectPicture(Prepared item, string reason) => outcome.Rejected.Add(Rejected.Naming(item.Row,
            $"Image '{item.Row.Image ?? item.Row.ImageUrl}': {reason}", item.Row.Image is null ? CatalogField.ImageUrl : CatalogField.Image));
    }

    /// <summary>What is stored for a SKU: its hashes, model, picture URL, and what that URL answered last time.</summary>
    sealed record Existing(byte[] Text, byte[]? Image, string Fingerprint, string? ImageUrl, PictureSource? Source);

    async Task<Dictionary<string, Existing>> ExistingAsync(string[] skus, string[] urls, CancellationToken ct)
    {
        var found = new Dictionary<string, Existing>(StringComparer.Ordinal);
        if (skus.Length == 0)
            return found;
        await using var command = dataSource.CreateCommand("""
            SELECT i.sku, i.text_sha256, i.image_sha256, i.fingerprint, i.image_url, p.etag, p.last_modified, p.sha256
            FROM items i LEFT JOIN picture_sources p ON p.url = i.image_url AND p.url = ANY($2)
            WHERE i.sku = ANY($1)
            """);
        command.Parameters.Add(new() { Value = skus });
        command.Parameters.Add(new() { Value = urls });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var url = reader.IsDBNull(4) ? null : reader.GetString(4);
            var source = reader.IsDBNull(7) ? null : new PictureSource(url!,
                new PictureValidators(reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6)),
                reader.GetFieldValue<byte[]>(7));
            found[reader.GetString(0)] = new Existing(reader.GetFieldValue<byte[]>(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2),
                reader.GetString(3), url, source);
        }
        return found;
    }

    /// <summary>
    /// One transaction: embedded rows by binary COPY into a staging table that keeps the items table's CHECK
    /// constraints and column types, then one INSERT … ON CONFLICT that updates a row only where its content
    /// changed; unchanged rows' plain fields; the rejected rows; the job's progress. A row that breaks a database
    /// rule the validation does not know is found at the staging table (or at the fields' update), row by row, and
    /// rejected alone. Rows go in SKU order to make deadlocks between concurrent imports rare (the caller retries
    /// them). The progress update expects the job at <paramref name="processedBefore"/>: a runner that lost the job
    /// to another (its lock's connection died) writes nothing, and a retry after a commit whose answer was lost
    /// writes nothing twice.
    /// </summary>
    async Task<BatchWrite> WriteOnceAsync(Guid jobId, int processedBefore, int rowCount, BatchOutcome outcome, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var (inserted, reembedded, updated) = (0, 0, 0);
        var staged = outcome.Embedded.OrderBy(e => e.Item.Sku, StringComparer.Ordinal).ToList();
        var refused = new List<Rejected>();
        if (staged.Count > 0)
        {
            await using (var stage = new NpgsqlCommand(
                "CREATE TEMP TABLE import_stage (LIKE items INCLUDING DEFAULTS INCLUDING CONSTRAINTS) ON COMMIT DROP", connection, transaction))
                await stage.ExecuteNonQueryAsync(ct);
            await WriteRowsAloneOnRuleBreakAsync(transaction, staged, async rows => await StageAsync(connection, rows, ct), e => e.Item.Row, refused, ct);
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
            (inserted, reembedded) = ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
            await reader.DisposeAsync();
            // A row whose picture the server said was unchanged has its hash but no new copy: its stored one stays.
            await ItemPictures.WriteBatchAsync(connection, transaction,
                [.. staged.Select(e => (e.Item.Sku, e.Item.ImageHash, outcome.Pictures.GetValueOrDefault(e.Item.Sku)))], ct);
        }
        if (outcome.Unchanged.Count > 0)
        {
            var ordered = outcome.Unchanged.OrderBy(u => u.Sku, StringComparer.Ordinal).ToList();
            await WriteRowsAloneOnRuleBreakAsync(transaction, ordered, async rows => updated += await UpdateFieldsAsync(connection, transaction, rows, ct),
                u => u.Row, refused, ct);
        }
        // Rows another import embedded first count as unchanged here: they were written once, not twice.
        var unchanged = outcome.Unchanged.Count + staged.Count - refused.Count - inserted - reembedded - updated;
        if (outcome.Downloaded.Count > 0)
        {
            await using var sources = new NpgsqlCommand("""
                INSERT INTO picture_sources (url, etag, last_modified, sha256)
                SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bytea[])
                ON CONFLICT (url) DO UPDATE SET etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, sha256 = EXCLUDED.sha256, fetched_at = now()
                """, connection, transaction);
            // One row per URL (two SKUs may share a picture), in URL order against deadlocks.
            var downloaded = outcome.Downloaded.DistinctBy(d => d.Url).OrderBy(d => d.Url, StringComparer.Ordinal).ToList();
            sources.Parameters.Add(new() { Value = downloaded.Select(d => d.Url).ToArray() });
            sources.Parameters.Add(new() { Value = downloaded.Select(d => FieldRules.Storable(d.Validators.ETag ?? "", 1000) is { Length: > 0 } e ? e : null).ToArray() });
            sources.Parameters.Add(new() { Value = downloaded.Select(d => d.Validators.LastModified).ToArray() });
            sources.Parameters.Add(new() { Value = downloaded.Select(d => d.Sha256).ToArray() });
            await sources.ExecuteNonQueryAsync(ct);
        }
        var rejected = outcome.Rejected.Concat(refused).ToList();
        if (rejected.Count > 0)
        {
            await using var errors = new NpgsqlCommand("""
                INSERT INTO import_errors (job_id, row_number, line, sku, columns, reason, stored)
                SELECT $1, * FROM unnest($2::integer[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::boolean[]) ON CONFLICT DO NOTHING
                """, connection, transaction);
            errors.Parameters.Add(new() { Value = jobId });
            errors.Parameters.Add(new() { Value = rejected.Select(r => r.Row.Number).ToArray() });
            errors.Parameters.Add(new() { Value = rejected.Select(r => r.Row.Line).ToArray() });
            // What a row sent is quoted back; what the database cannot store of it (NUL) is replaced.
            errors.Parameters.Add(new() { Value = rejected.Select(r => r.Row.Item.Sku is { } sku ? FieldRules.Storable(sku, 200) : null).ToArray() });
            errors.Parameters.Add(new() { Value = rejected.Select(r => r.Columns is { } c ? FieldRules.Storable(c, 500) : null).ToArray() });
            errors.Parameters.Add(new() { Value = rejected.Select(r => FieldRules.Storable(r.Reason)).ToArray() });
            errors.Parameters.Add(new() { Value = rejected.Select(r => r.Stored).ToArray() });
            await errors.ExecuteNonQueryAsync(ct);
        }
        await using var progress = new NpgsqlCommand("""
            WITH job AS (
                UPDATE import_jobs SET processed_rows = processed_rows + $2, inserted = inserted + $3, reembedded = reembedded + $4, updated = updated + $10,
                       unchanged = unchanged + $5, superseded = superseded + $6, errors = errors + $7, pictures_downloaded = pictures_downloaded + $9
                WHERE id = $1 AND status = 'running' AND processed_rows = $8 RETURNING 1),
            bump AS (UPDATE catalog_state SET revision = revision + 1 WHERE $3 + $4 + $10 > 0 AND EXISTS (SELECT 1 FROM job))
            SELECT count(*) FROM job
            """, connection, transaction);
        progress.Parameters.Add(new() { Value = jobId });
        progress.Parameters.Add(new() { Value = rowCount });
        progress.Parameters.Add(new() { Value = inserted });
        progress.Parameters.Add(new() { Value = reembedded });
        progress.Parameters.Add(new() { Value = unchanged });
        progress.Parameters.Add(new() { Value = outcome.Superseded });
        // A row stored without its picture is listed with the errors but counted as what was written for it.
        progress.Parameters.Add(new() { Value = rejected.Count(r => !r.Stored) - outcome.Superseded });
        progress.Parameters.Add(new() { Value = processedBefore });
        progress.Parameters.Add(new() { Value = outcome.Downloaded.Count });
        progress.Parameters.Add(new() { Value = updated });
        if ((long)(await progress.ExecuteScalarAsync(ct))! == 1)
        {
            await transaction.CommitAsync(ct);
            foreach (var (name, rows) in new[] { ("inserted", inserted), ("updated", updated), ("reembedded", reembedded), ("unchanged", unchanged),
                         ("superseded", outcome.Superseded), ("error", rejected.Count(r => !r.Stored) - outcome.Superseded) })
                metrics.ImportRows.Add(rows, new KeyValuePair<string, object?>("outcome", name));
            return BatchWrite.Written;
        }
        await transaction.RollbackAsync(ct);
        return await WhyNotWrittenAsync(connection, jobId, processedBefore + rowCount, ct);
    }

    /// <summary>
    /// Writes the rows at once; if one breaks a database rule the validation does not know, rolls that back and
    /// writes them one by one, each under its own savepoint, refusing only the rows that break it — so one row never
    /// fails the batch, and with it the job.
    /// </summary>
    static async Task WriteRowsAloneOnRuleBreakAsync<T>(NpgsqlTransaction transaction, List<T> rows, Func<List<T>, Task> write,
        Func<T, CatalogRow> rowOf, List<Rejected> refused, CancellationToken ct)
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
                refused.Add(new Rejected(rowOf(row), null, rowFault.ConstraintName is { } rule
                    ? $"The row breaks the database rule {rule}."
                    : $"The row holds {DatabaseFaults.Describe(rowFault)}."));
            }
        }
    }

    /// <summary>The fields that are not embedded, for rows whose embedded content is unchanged; the count of rows that changed.</summary>
    static async Task<int> UpdateFieldsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<Prepared> rows, CancellationToken ct)
    {
        await using var plain = new NpgsqlCommand("""
            UPDATE items SET price = u.price, currency = u.currency, available = u.available, image_url = u.image_url,
                             brand = u.brand, attributes = u.attributes, updated_at = now()
            FROM unnest($1::text[], $2::numeric[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::jsonb[])
                 AS u(sku, price, currency, available, image_url, brand, attributes)
            WHERE items.sku = u.sku AND (items.price IS DISTINCT FROM u.price OR items.currency IS DISTINCT FROM u.currency
                                         OR items.available IS DISTINCT FROM u.available OR items.image_url IS DISTINCT FROM u.image_url
                                         OR items.brand IS DISTINCT FROM u.brand OR items.attributes IS DISTINCT FROM u.attributes)
            """, connection, transaction);
        plain.Parameters.Add(new() { Value = rows.Select(u => u.Sku).ToArray() });
        plain.Parameters.Add(new() { Value = rows.Select(u => u.Fields.Price).ToArray() });
        plain.Parameters.Add(new() { Value = rows.Select(u => u.Fields.Currency).ToArray() });
        plain.Parameters.Add(new() { Value = rows.Select(u => u.Fields.Available).ToArray() });
        plain.Parameters.Add(new() { Value = rows.Select(u => u.Fields.ImageUrl).ToArray() });
        plain.Parameters.Add(new() { Value = rows.Select(u => u.Fields.Brand).ToArray() });
        plain.Parameters.Add(new() { Value = rows.Select(u => u.Fields.Attributes.GetRawText()).ToArray() });
        return await plain.ExecuteNonQueryAsync(ct);
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
            await writer.WriteAsync(Pipeline.Fingerprint, ct);
            await writer.WriteAsync(new Vector(vectors.Fused), ct);
            if (vectors.Image is null) await writer.WriteNullAsync(ct); else await writer.WriteAsync(new Vector(vectors.Image), ct);
            if (vectors.Text is null) await writer.WriteNullAsync(ct); else await writer.WriteAsync(new Vector(vectors.Text), ct);
            await writer.WriteAsync(vectors.ImageWeight, ct);
            await writer.WriteAsync(vectors.TextWeight, ct);
            await writer.WriteAsync(f.ImageUrl, NpgsqlDbType.Text, ct);
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
            UPDATE import_jobs SET status = CASE WHEN errors > 0 THEN 'succeeded_with_errors' ELSE 'succeeded' END, finished_at = now()
            WHERE id = $1 AND status = 'running'
            """);
        command.Parameters.Add(new() { Value = jobId });
        await command.ExecuteNonQueryAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {JobId}: retry {Attempt} in {DelayMilliseconds:F0} ms after {Fault}")]
    partial void LogRetry(Guid jobId, int attempt, string fault, double delayMilliseconds, Exception exception);
}
