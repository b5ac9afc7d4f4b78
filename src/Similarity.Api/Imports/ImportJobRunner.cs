using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.Retry;
using Similarity.Database;
using Similarity.Encoders;
using Similarity.Hosting;
using Similarity.Models;
using Similarity.Imports.Pictures;
using Similarity.Insight;

namespace Similarity.Imports;

/// <summary>
/// Runs one import job from its committed resume point. First the upload's checks, which the request left to the
/// job so that its 202 is quick (a failed one throws <see cref="InputRejectedException"/> naming its limit); then
/// rows in batches through three overlapping stages: screening the rows and starting their downloads
/// (<see cref="RowScreening"/>, <see cref="PictureSourcing"/>), sourcing the pictures and preparing the changed items
/// for the models (<see cref="ImportEmbedding"/>), and embedding and writing each batch in one transaction
/// (<see cref="ImportBatchWriter"/>) — so a crash loses at most the batch in flight and never writes a row twice.
/// A transient database fault retries the batch with backoff; past the retries it is thrown, and the worker fails
/// the job keeping its upload. Each stage's time per batch goes to <see cref="ImportStageMetrics"/>.
/// </summary>
public sealed partial class ImportJobRunner(
    NpgsqlDataSource dataSource, ImportStore store, ModelSets models, PictureFetcher pictures, IOptions<ImportOptions> options,
    IOptions<ImageFetchOptions> fetchOptions, IOptions<InputLimits> limits, EncoderCapacity capacity, SimilarityMetrics metrics, ImportChecks checks,
    ImportStageMetrics timings, ILogger<ImportJobRunner> logger)
{
    /// <summary>Batches whose pictures download while earlier ones are decoded and encoded.</summary>
    const int DownloadAhead = 3;

    readonly ImportBatchWriter _writer = new(dataSource, metrics);

    public async Task<ImportEnd> RunAsync(ImportJob job, CancellationToken ct)
    {
        var o = options.Value;
        var retry = RetryPipeline(job.Id);
        // The live set's encoders, the same throughout a job: an activation is refused while a job is queued or
        // running (ModelSets.ActivateAsync), and a job claimed after one finds the new set live.
        var pipeline = models.Live.Pipeline;
        var (layout, mapping) = job.Reading.Open(job.CatalogPath);
        using var archive = job.ImagesPath is null ? null : ImageArchive.Open(job.ImagesPath, o, limits.Value.MaxImageBytes);

        var (rows, lastRow) = RowScreening.Count(CatalogRows.Read(job.CatalogPath, layout, mapping), o.MaxRows,
            () => new InputRejectedException("catalog", $"The catalog has more than {o.MaxRows} rows (Similarity:Imports:MaxRows).", InputRejection.OverLimit));
        if (job.TotalRows is null)
        {
            archive?.CheckInflation();
            await retry.ExecuteAsync(async ct => await store.SetTotalAsync(job.Id, rows, ct), ct);
        }

        var fetching = Channel.CreateBounded<FetchingBatch>(new BoundedChannelOptions(DownloadAhead) { SingleReader = true, SingleWriter = true });
        var ready = Channel.CreateBounded<PreparedBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var downloads = new SemaphoreSlim(fetchOptions.Value.MaxConcurrentDownloads);
        var sourcing = new PictureSourcing(pictures, pipeline, archive, job.Reading, downloads);
        var embedding = new ImportEmbedding(pipeline, timings);
        var batches = CatalogRows.Read(job.CatalogPath, layout, mapping).Where(r => r.Number > job.ProcessedRows).Chunk(o.BatchSize);
        var stages = new[]
        {
            Task.Run(() => ImportStages.RunAsync(fetching.Writer, batches.ToAsyncEnumerable(),
                rows => StartBatchAsync(rows, lastRow, sourcing, retry, stop.Token), stop.Token), stop.Token),
            Task.Run(() => ImportStages.RunAsync(ready.Writer, fetching.Reader.ReadAllAsync(stop.Token),
                batch => PrepareBatchAsync(batch, sourcing, embedding, stop.Token), stop.Token), stop.Token),
        };
        var end = ImportEnd.Finished;
        var processed = job.ProcessedRows;
        try
        {
            var start = Stopwatch.GetTimestamp();
            await foreach (var prepared in ready.Reader.ReadAllAsync(stop.Token))
            {
                timings.Record(ImportStageMetrics.Starved, start);
                await using (prepared)
                {
                    BatchOutcome outcome;
                    start = Stopwatch.GetTimestamp();
                    using (await capacity.AcquireImportShareAsync(stop.Token)) // the encoders are shared with the API
                    {
                        timings.Record(ImportStageMetrics.EncoderWait, start);
                        start = Stopwatch.GetTimestamp();
                        outcome = embedding.Embed(prepared);
                        timings.Record(ImportStageMetrics.Embed, start);
                    }
                    start = Stopwatch.GetTimestamp();
                    var written = await retry.ExecuteAsync(async ct =>
                        await _writer.WriteOnceAsync(job.Id, processed, prepared.RowCount, outcome, pipeline.Fingerprint, ct), stop.Token);
                    timings.Record(ImportStageMetrics.Write, start);
                    if (written is { } stopped)
                    {
                        end = stopped;
                        break;
                    }
                    processed += prepared.RowCount;
                    start = Stopwatch.GetTimestamp();
                    await retry.ExecuteAsync(async ct => await checks.RecordBatchAsync(job.Id, StoredItems(outcome), ct), stop.Token);
                    timings.Record(ImportStageMetrics.Checks, start);
                }
                start = Stopwatch.GetTimestamp();
            }
        }
        finally
        {
            stop.Cancel();
            await ImportStages.DrainAsync(stages, fetching, ready);
        }
        if (end == ImportEnd.Finished)
        {
            await RunChecksAsync(job.Id, retry, ct);
            await retry.ExecuteAsync(async ct => await ImportJobWrites.FinishAsync(dataSource, job.Id, ct), ct);
        }
        return end;
    }

    /// <summary>The catalog checks over the job's items. They inform and never fail the job: a fault is logged and the job ends without them.</summary>
    async Task RunChecksAsync(Guid jobId, ResiliencePipeline retry, CancellationToken ct)
    {
        try
        {
            await retry.ExecuteAsync(async ct => await checks.RunAsync(jobId, ct), ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            LogChecksFailed(jobId, ex);
        }
    }

    /// <summary>The batch's stored items for the catalog checks, with the picture the job received for each.</summary>
    static IEnumerable<ImportChecks.StoredItem> StoredItems(BatchOutcome outcome) =>
        outcome.Embedded.Select(e => new ImportChecks.StoredItem(e.Item.Sku, e.Item.Image))
            .Concat(outcome.Unchanged.Select(u => new ImportChecks.StoredItem(u.Sku, null)));

    /// <summary>Screens a batch, looks up what is stored for its SKUs and starts downloading its pictures given by URL.</summary>
    async Task<FetchingBatch> StartBatchAsync(CatalogRow[] rows, Dictionary<string, int> lastRow, PictureSourcing sourcing,
        ResiliencePipeline retry, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        var outcome = new BatchOutcome();
        var valid = RowScreening.Screen(rows, lastRow, outcome);
        var skus = valid.Select(v => v.Sku).ToArray();
        var urls = PictureSourcing.UrlsOf(valid);
        var stored = await retry.ExecuteAsync(async ct => await StoredContent.ReadAsync(dataSource, skus, urls, ct), ct);
        timings.Record(ImportStageMetrics.Screen, start);
        return new FetchingBatch(rows, outcome, valid, stored, sourcing.StartDownloads(valid, stored, ct));
    }

    /// <summary>Takes a batch's pictures as they come (downloads, zip entries), then prepares its changed items for the models.</summary>
    async Task<PreparedBatch> PrepareBatchAsync(FetchingBatch batch, PictureSourcing sourcing, ImportEmbedding embedding, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        var sourced = new List<ImportItem>();
        foreach (var item in batch.Valid)
        {
            if (await sourcing.SourceAsync(item, batch) is { } withPicture)
                sourced.Add(withPicture);
        }
        ct.ThrowIfCancellationRequested();
        timings.Record(ImportStageMetrics.Source, start);
        return embedding.Prepare(batch.Rows.Length, sourced, batch.Stored, batch.Outcome);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {JobId}: the catalog checks failed; the job ends without them")]
    partial void LogChecksFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {JobId}: retry {Attempt} in {DelayMilliseconds:F0} ms after {Fault}")]
    partial void LogRetry(Guid jobId, int attempt, string fault, double delayMilliseconds, Exception exception);
}
