using System.Threading.Channels;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Database;
using Similarity.Encoders;

using Similarity.Hosting;
using Similarity.Imports.Pictures;

namespace Similarity.Imports;

/// <summary>Wakes the workers when a job is queued, so they need not wait for their next poll.</summary>
public sealed class ImportQueue
{
    readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _signal.Writer.TryWrite(true);

    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(timeout);
        try
        {
            await _signal.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
    }
}

/// <summary>
/// Claims and runs import jobs. A worker owns a job by a PostgreSQL advisory lock held on its own connection for
/// as long as it runs it: when the process dies the lock goes with its connection, and the next worker (here or
/// after a restart) takes the job over from its last committed batch. On shutdown the batch in flight is
/// abandoned (its transaction rolls back) and the job stays "running" for the next start.
/// Each worker loop catches per round (one job), logs with the job's id and goes on; it stops only on shutdown.
/// </summary>
public sealed partial class ImportWorker(
    NpgsqlDataSource dataSource, ImportJobRunner runner, ImportStore store, ImportQueue queue, ImportWorkerState state,
    SimilarityMetrics metrics, IOptions<ImportOptions> options, ILogger<ImportWorker> logger)
    : BackgroundService
{
    static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

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
            var round = Round.Idle;
            try
            {
                round = await RunNextJobAsync(stoppingToken);
                // A failed round shows until a job runs cleanly again; idle polls say nothing either way.
                if (round == Round.Failed)
                    state.RoundFailed(worker);
                else if (round == Round.Ran)
                    state.RoundSucceeded(worker);
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
                state.RoundFailed(worker);
                LogRoundFailed(worker, ex);
            }
            if (round == Round.Idle)
                await queue.WaitAsync(PollInterval, stoppingToken);
        }
    }

    enum Round { Idle, Ran, Failed }

    /// <summary>Claims the next job and runs it to an end: idle when there was none, failed when its round ended in an error.</summary>
    async Task<Round> RunNextJobAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (await ClaimAsync(connection, ct) is not { } job)
            return Round.Idle;
        var round = Round.Ran;
        try
        {
            LogStarted(job.Id, job.Format, job.ProcessedRows, job.TotalRows);
            metrics.ImportJobs.Add(1, new KeyValuePair<string, object?>("status", "running"));
            var ended = await RunAsync(job, ct);
            if (await store.GetAsync(job.Id, ct) is { Status: not "running" } done)
            {
                metrics.ImportJobs.Add(1, new KeyValuePair<string, object?>("status", done.Status));
                LogEnded(done.Id, done.Status, done.ProcessedRows, done.Inserted, done.Updated, done.Reembedded, done.Unchanged, done.Errors, done.PicturesDownloaded);
            }
            // An upload is kept while the job may run again: failed (to resume) or taken over by another worker.
            if (ended == JobEnd.Ended)
                ImportSpool.Delete(job);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // E.g. its upload could not be removed, or the job could not be marked failed: the job's own problem,
            // logged with its id; the worker goes on with the next.
            LogJobRoundFailed(job.Id, ex);
            round = Round.Failed;
        }
        finally
        {
            await UnlockAsync(connection, job.Id);
        }
        return round;
    }

    enum JobEnd { Ended, Refused, Failed, TakenOver }


    /// <summary>Runs the job; a refused upload or a fault fails it with a message for its owner (never the database's own text).</summary>
    async Task<JobEnd> RunAsync(ImportJob job, CancellationToken ct)
    {
        try
        {
            return await runner.RunAsync(job, ct) == ImportRunEnd.TakenOver ? JobEnd.TakenOver : JobEnd.Ended;
        }
        catch (InputRejectedException refused)
        {
            // A refused upload never runs: it goes before the job is marked failed, so whoever sees "failed" finds no upload left.
            LogRefused(job.Id, refused.Message);
            ImportSpool.Delete(job);
            await store.FailAsync(job.Id, $"The upload was refused: {refused.Message}", ct);
            return JobEnd.Refused;
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
            return JobEnd.Failed;
        }
    }

    /// <summary>The oldest queued or orphaned running job whose advisory lock this connection can take.</summary>
    static async Task<ImportJob?> ClaimAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var candidates = new List<Guid>();
        await using (var open = new NpgsqlCommand("SELECT id FROM import_jobs WHERE status IN ('queued', 'running') ORDER BY created_at LIMIT 50", connection))
        await using (var reader = await open.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                candidates.Add(reader.GetGuid(0));

        foreach (var id in candidates)
        {
            await using var claim = new NpgsqlCommand($"""
                WITH locked AS (SELECT pg_try_advisory_lock({LockKey}) AS ok)
                UPDATE import_jobs SET status = 'running', started_at = coalesce(started_at, now())
                FROM locked WHERE locked.ok AND id = $1 AND status IN ('queued', 'running')
                RETURNING {Columns("import_jobs.")}
                """, connection);
            claim.Parameters.Add(new() { Value = id });
            await using var reader = await claim.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
                return ImportStore.Read(reader);
            await reader.DisposeAsync();
            await UnlockAsync(connection, id); // taken but the job had just ended: give the lock back
        }
        return null;
    }

    const string LockKey = "('x' || substr(md5($1::text), 1, 16))::bit(64)::bigint";

    static string Columns(string prefix) => string.Join(", ", ImportStore.Columns.Split(',').Select(c => prefix + c.Trim()));

    static async Task UnlockAsync(NpgsqlConnection connection, Guid id)
    {
        try
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", connection);
            unlock.Parameters.Add(new() { Value = id });
            await unlock.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // A broken connection took the lock with it.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {JobId} ({Format}) running from row {ProcessedRows} of {TotalRows}")]
    partial void LogStarted(Guid jobId, string format, int processedRows, int? totalRows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {JobId} {Status}: {ProcessedRows} rows, {Inserted} inserted, {Updated} updated, {Reembedded} re-embedded, {Unchanged} unchanged, {Errors} errors, {PicturesDownloaded} pictures downloaded")]
    partial void LogEnded(Guid jobId, string status, int processedRows, int inserted, int updated, int reembedded, int unchanged, int errors, int picturesDownloaded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {JobId} refused: {Reason}")]
    partial void LogRefused(Guid jobId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Import {JobId} failed")]
    partial void LogFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Import {JobId}: its round ended in an error; the worker goes on")]
    partial void LogJobRoundFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Import worker {Worker}: its round ended in an error; it goes on")]
    partial void LogRoundFailed(int worker, Exception exception);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Import worker {Worker} stopped; /health/ready reports it")]
    partial void LogWorkerStopped(int worker, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import worker cannot reach the database: {Reason}")]
    partial void LogDatabaseUnavailable(string reason, Exception exception);
}

/// <summary>
/// What /health/ready says of imports: unhealthy when a worker loop stopped or the spool cannot be written
/// (no upload could be stored, no job read); degraded while a worker's last round failed.
/// </summary>
public sealed class ImportWorkerState(ImportSpool spool, IOptions<ImportOptions> options, ILogger<ImportWorkerState> logger) : IHealthCheck
{
    readonly int[] _state = new int[options.Value.Workers]; // 0 running, 1 last round failed, 2 stopped

    public void RoundSucceeded(int worker) => Interlocked.CompareExchange(ref _state[worker], 0, 1);

    public void RoundFailed(int worker) => Interlocked.CompareExchange(ref _state[worker], 1, 0);

    public void Stopped(int worker) => Volatile.Write(ref _state[worker], 2);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var states = Enumerable.Range(0, _state.Length).Select(i => Volatile.Read(ref _state[i])).ToArray();
        var data = new Dictionary<string, object> { ["workers"] = states.Length, ["stopped"] = states.Count(s => s == 2) };
        if (states.Contains(2))
            return Task.FromResult(HealthCheckResult.Unhealthy("An import worker loop stopped (logged); jobs wait.", data: data));
        if (spool.Problem() is { } problem)
        {
            ImportSpoolLog.Unwritable(logger, spool.Root, problem);
            return Task.FromResult(HealthCheckResult.Unhealthy("Imports cannot run: the spool folder (Similarity:Imports:SpoolPath) cannot be written (logged).", data: data));
        }
        return Task.FromResult(states.Contains(1)
            ? HealthCheckResult.Degraded("An import worker's last round failed (logged); it goes on.", data: data)
            : HealthCheckResult.Healthy("Import workers running; the spool is writable.", data));
    }
}

static partial class ImportSpoolLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "The import spool {Root} cannot be written")]
    public static partial void Unwritable(ILogger logger, string root, Exception exception);
}

public static class ImportsExtensions
{
    public static WebApplicationBuilder AddImports(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ImportStore>();
        builder.Services.AddSingleton<ImportQueue>();
        builder.Services.AddSingleton<ImportSpool>();
        builder.Services.AddPictureFetching();
        builder.Services.AddSingleton<ImportJobRunner>();
        builder.Services.AddSingleton<ImportWorkerState>();
        builder.Services.AddHostedService<ImportWorker>();
        builder.Services.AddHealthChecks().AddCheck<ImportWorkerState>("imports", tags: [HealthTags.Duty]);
        return builder;
    }
}
