using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Database;
using Similarity.Hosting;
using Similarity.Similar;

namespace Similarity.Imports;

/// <summary>
/// Claims and runs import jobs. A worker owns a job by a PostgreSQL advisory lock held on its own connection for
/// as long as it runs it: when the process dies the lock goes with its connection, and the next worker (here or
/// after a restart) takes the job over from its last committed batch. On shutdown the batch in flight is
/// abandoned (its transaction rolls back) and the job stays "running" for the next start.
/// Each worker loop catches per pass (claiming and running one job), logs with the job's id and goes on; it stops only on shutdown.
/// </summary>
public sealed partial class ImportWorker(
    NpgsqlDataSource dataSource, ImportJobRunner runner, ImportStore store, ImportQueue queue, ImportWorkerState state,
    SimilarityMetrics metrics, IOptions<ImportOptions> options, BulkWriteSignal bulkWrites, ILogger<ImportWorker> logger)
    : BackgroundService
{
    static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>How often a running job's progress is logged (only when its row count moved).</summary>
    static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(10);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, options.Value.Workers).Select(worker => Task.Run(() => SuperviseAsync(worker, stoppingToken), stoppingToken)));

    /// <summary>A loop that ends other than by shutdown says so where operators look: the log and /health/ready.</summary>
    async Task SuperviseAsync(int worker, CancellationToken stoppingToken)
    {
        try
        {
            await WorkAsync(worker, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: the loop ends as it should, and the job in flight stays running for the next start.
        }
        catch (Exception ex)
        {
            state.Stopped(worker);
            LogWorkerStopped(worker, ex);
        }
    }

    async Task WorkAsync(int worker, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var pass = Pass.Idle;
            try
            {
                pass = await RunNextJobAsync(stoppingToken);
                // A failed pass shows until a job runs cleanly again; idle polls say nothing either way.
                if (pass == Pass.Failed)
                    state.PassFailed(worker);
                else if (pass == Pass.Ran)
                    state.PassSucceeded(worker);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (DatabaseFaults.IsTransient(ex))
            {
                // The database check already reports it.
                LogDatabaseUnavailable(DatabaseFaults.Describe(ex), ex);
            }
            catch (Exception ex)
            {
                state.PassFailed(worker);
                LogPassFailed(worker, ex);
            }
            if (pass == Pass.Idle)
                await queue.WaitAsync(PollInterval, stoppingToken);
        }
    }

    /// <summary>One pass of a worker loop: no job to claim, a job run, or a job whose pass ended in an error.</summary>
    enum Pass { Idle, Ran, Failed }

    /// <summary>Claims the next job and runs it to an end: idle when there was none, failed when its pass ended in an error.</summary>
    async Task<Pass> RunNextJobAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (await ImportJobClaim.ClaimAsync(connection, ct) is not { } job)
            return Pass.Idle;
        var pass = Pass.Ran;
        try
        {
            LogStarted(job.Id, job.Format, job.ProcessedRows, job.TotalRows);
            metrics.ImportJobs.Add(1, new KeyValuePair<string, object?>("status", ImportStatus.Running));
            ImportEnd ended;
            using var running = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var progress = LogProgressAsync(job.Id, job.ProcessedRows, running.Token);
            try
            {
                ended = await RunAsync(job, ct);
            }
            finally
            {
                // On every path: the progress loop never outlives its job (it catches its own faults).
                await running.CancelAsync();
                await progress;
            }
            if (await store.GetAsync(job.Id, ct) is { Status: not ImportStatus.Running } done)
            {
                metrics.ImportJobs.Add(1, new KeyValuePair<string, object?>("status", done.Status));
                LogEnded(done.Id, done.Status, done.ProcessedRows, done.Inserted, done.Updated, done.Reembedded, done.Unchanged, done.Errors, done.PicturesDownloaded);
            }
            // An upload is kept while the job may run again: failed (to resume) or taken over by another worker.
            if (ended is ImportEnd.Finished or ImportEnd.Cancelled)
                ImportSpool.Delete(job);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // E.g. its upload could not be removed, or the job could not be marked failed: the job's own problem,
            // logged with its id; the worker goes on with the next.
            LogJobPassFailed(job.Id, ex);
            pass = Pass.Failed;
        }
        finally
        {
            await ImportJobClaim.UnlockAsync(connection, job.Id);
        }
        return pass;
    }

    /// <summary>Logs the job's row count every <see cref="ProgressInterval"/> while it runs, when it has moved.</summary>
    async Task LogProgressAsync(Guid jobId, int processedRows, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(ProgressInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                if (await store.GetAsync(jobId, ct) is not { Status: ImportStatus.Running } job)
                    return;
                if (job.ProcessedRows == processedRows)
                    continue;
                processedRows = job.ProcessedRows;
                LogProgress(jobId, job.ProcessedRows, job.TotalRows is { } total ? $" of {total}" : "", job.Inserted + job.Updated + job.Reembedded + job.Unchanged, job.Errors);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The job ended: its end line follows.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Progress is a courtesy: a failed read never touches the job, which reports its own faults.
            LogProgressUnavailable(jobId, ex);
        }
    }

    /// <summary>Runs the job; a refused upload or a fault fails it with a message for its owner (never the database's own text).</summary>
    async Task<ImportEnd> RunAsync(ImportJob job, CancellationToken ct)
    {
        // The list worker defers its rounds while the job runs (BulkWriteSignal).
        using var bulk = bulkWrites.Hold();
        try
        {
            return await runner.RunAsync(job, ct);
        }
        catch (InputRejectedException refused)
        {
            // A refused upload never runs: it goes before the job is marked failed, so whoever sees "failed" finds no upload left.
            LogRefused(job.Id, refused.Message);
            ImportSpool.Delete(job);
            await store.FailAsync(job.Id, $"The upload was refused: {refused.Message}", ct);
            return ImportEnd.Refused;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogFailed(job.Id, ex);
            var cause = DatabaseFaults.IsTransient(ex) || ex is NpgsqlException
                ? $"The job stopped on {DatabaseFaults.Describe(ex)}, after {options.Value.RetryAttempts} retries."
                : ex is IOException or UnauthorizedAccessException
                    ? "The job stopped: its upload could not be read (logged with the job's id)."
                    : "The job stopped on an unexpected error (logged with the job's id).";
            await store.FailAsync(job.Id, $"{cause} Its upload is kept: POST /imports/{job.Id}/resume goes on from its last committed batch.", ct);
            return ImportEnd.Failed;
        }
    }

    void LogStarted(Guid jobId, string format, int processedRows, int? totalRows) =>
        LogStarted(jobId, format, processedRows, totalRows is { } total ? $" of {total}" : "");

    // OfTotal is " of N" or empty: a count not known yet is left out, never written "(null)".
    [LoggerMessage(Level = LogLevel.Information, Message = "Import {JobId} ({Format}) running from row {ProcessedRows}{OfTotal}")]
    partial void LogStarted(Guid jobId, string format, int processedRows, string ofTotal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {JobId} at row {ProcessedRows}{OfTotal}: {Stored} stored, {Errors} errors")]
    partial void LogProgress(Guid jobId, int processedRows, string ofTotal, int stored, int errors);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Import {JobId}: its progress could not be read")]
    partial void LogProgressUnavailable(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {JobId} {Status}: {ProcessedRows} rows, {Inserted} inserted, {Updated} updated, {Reembedded} re-embedded, {Unchanged} unchanged, {Errors} errors, {PicturesDownloaded} pictures downloaded")]
    partial void LogEnded(Guid jobId, string status, int processedRows, int inserted, int updated, int reembedded, int unchanged, int errors, int picturesDownloaded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {JobId} refused: {Reason}")]
    partial void LogRefused(Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Import {JobId} failed")]
    partial void LogFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Import {JobId}: its pass ended in an error; the worker goes on")]
    partial void LogJobPassFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Import worker {Worker}: its pass ended in an error; it goes on")]
    partial void LogPassFailed(int worker, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Import worker {Worker} stopped; /health/ready reports it")]
    partial void LogWorkerStopped(int worker, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import worker cannot reach the database: {Reason}")]
    partial void LogDatabaseUnavailable(string reason, Exception exception);
}
