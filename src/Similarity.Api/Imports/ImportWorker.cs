using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;

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
/// </summary>
public sealed partial class ImportWorker(
    NpgsqlDataSource dataSource, ImportJobRunner runner, ImportQueue queue, IOptions<ImportOptions> options, ILogger<ImportWorker> logger)
    : BackgroundService
{
    static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, options.Value.Workers).Select(_ => Task.Run(() => WorkAsync(stoppingToken), stoppingToken)));

    async Task WorkAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                if (await ClaimAsync(connection, stoppingToken) is { } job)
                {
                    LogStarted(job.Id, job.ProcessedRows);
                    try
                    {
                        await runner.RunAsync(job, stoppingToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogFailed(job.Id, ex);
                        await FailAsync(job.Id, ex.Message);
                    }
                    // Ended one way or another (a shutdown throws past this): its upload is no longer needed.
                    ImportSpool.Delete(job.CatalogPath);
                    await Unlock(connection, job.Id);
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (NpgsqlException ex)
            {
                LogDatabaseUnavailable(ex.Message);
            }
            await queue.WaitAsync(PollInterval, stoppingToken);
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
            await Unlock(connection, id); // taken but the job had just ended: give the lock back
        }
        return null;
    }

    const string LockKey = "('x' || substr(md5($1::text), 1, 16))::bit(64)::bigint";

    static string Columns(string prefix) => string.Join(", ", ImportStore.Columns.Split(',').Select(c => prefix + c.Trim()));

    static async Task Unlock(NpgsqlConnection connection, Guid id)
    {
        await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", connection);
        unlock.Parameters.Add(new() { Value = id });
        await unlock.ExecuteNonQueryAsync();
    }

    async Task FailAsync(Guid id, string error)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE import_jobs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1 AND status = 'running'
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = error });
        await command.ExecuteNonQueryAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {JobId} running from row {ProcessedRows}")]
    partial void LogStarted(Guid jobId, int processedRows);

    [LoggerMessage(Level = LogLevel.Error, Message = "Import {JobId} failed")]
    partial void LogFailed(Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import worker cannot reach the database: {Reason}")]
    partial void LogDatabaseUnavailable(string reason);
}

/// <summary>Each job's upload lives in a folder of its own under the spool path.</summary>
public static class ImportSpool
{
    public static string DirectoryFor(string spoolPath, Guid id) => Path.Combine(spoolPath, id.ToString("N"));

    /// <summary>Removes the folder holding <paramref name="catalogPath"/> (and the job's images beside it).</summary>
    public static void Delete(string catalogPath)
    {
        if (Path.GetDirectoryName(catalogPath) is { } directory && Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }
}

public static class ImportsExtensions
{
    public static WebApplicationBuilder AddImports(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ImportStore>();
        builder.Services.AddSingleton<ImportQueue>();
        builder.Services.AddSingleton<ImportJobRunner>();
        builder.Services.AddHostedService<ImportWorker>();
        return builder;
    }
}
