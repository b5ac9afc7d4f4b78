using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using NpgsqlTypes;

namespace Similarity.Feedback;

/// <summary>
/// The served log's writer: takes what <see cref="ServedLog"/> queued and copies it to <c>served_lists</c> by binary
/// COPY, up to <see cref="MaxBatch"/> lists a batch, each batch given <see cref="Linger"/> to fill. A batch that fails
/// is dropped (counted, logged) and the loop goes on after a pause: the lists are a record for learning, not worth
/// stalling serving for — which is also why a batch commits without waiting for its WAL flush.
/// </summary>
public sealed partial class ServedLogWriter(NpgsqlDataSource dataSource, ServedLog log, FeedbackMetrics metrics,
    ILogger<ServedLogWriter> logger) : BackgroundService
{
    public const int MaxBatch = 1000;
    static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(2);
    // Under traffic, a COPY (and a commit) per few lists costs the database more than serving them; 100 ms of lists
    // make one batch. The wait is only the record's: /similar has answered.
    static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(100);

    const string Copy = """
        COPY served_lists (request_id, served_at, endpoint, query_sku, visitor_id, fingerprint, experiment, arm, teams,
                           explored_at, skus, scores)
        FROM STDIN (FORMAT BINARY)
        """;

    volatile bool _lastBatchFailed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<ServedList>(MaxBatch);
        try
        {
            while (await log.Reader.WaitToReadAsync(stoppingToken))
            {
                if (log.Reader.Count < MaxBatch)
                    await Task.Delay(Linger, stoppingToken);
                while (batch.Count < MaxBatch && log.Reader.TryRead(out var list))
                    batch.Add(list);
                if (batch.Count == 0)
                    continue;
                try
                {
                    await WriteAsync(batch, stoppingToken);
                    _lastBatchFailed = false;
                    metrics.ServedWritten.Add(batch.Count);
                    foreach (var list in batch)
                        metrics.RecordImpressions(list);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    _lastBatchFailed = true;
                    metrics.ServedDropped.Add(batch.Count);
                    LogBatchFailed(ex, batch.Count, batch[0].RequestId);
                    await Task.Delay(RetryPause, stoppingToken);
                }
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is still queued is lost with the process, as a full queue's lists are.
        }
    }

    Task WriteAsync(List<ServedList> batch, CancellationToken ct) => DayPartitions.WriteAsync(() => CopyAsync(batch, ct));

    async Task<int> CopyAsync(List<ServedList> batch, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // A crash may lose the last moment's lists, never anything acknowledged to a client: no flush to wait for.
        await using (var relaxed = new NpgsqlCommand("SET LOCAL synchronous_commit = off", connection, transaction))
            await relaxed.ExecuteNonQueryAsync(ct);
        var written = await CopyRowsAsync(connection, batch, ct);
        await transaction.CommitAsync(ct);
        return written;
    }

    static async Task<int> CopyRowsAsync(NpgsqlConnection connection, List<ServedList> batch, CancellationToken ct)
    {
        await using var writer = await connection.BeginBinaryImportAsync(Copy, ct);
        foreach (var list in batch)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(list.RequestId, NpgsqlDbType.Uuid, ct);
            await writer.WriteAsync(list.ServedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
            await writer.WriteAsync(list.Endpoint, NpgsqlDbType.Text, ct);
            await WriteTextAsync(writer, list.QuerySku, ct);
            await WriteTextAsync(writer, list.VisitorId, ct);
            await writer.WriteAsync(list.Fingerprint, NpgsqlDbType.Text, ct);
            await WriteTextAsync(writer, list.Experiment, ct);
            await WriteTextAsync(writer, list.Arm, ct);
            await WriteTextAsync(writer, list.Teams, ct);
            if (list.ExploredAt is { } explored)
                await writer.WriteAsync(explored, NpgsqlDbType.Smallint, ct);
            else
                await writer.WriteNullAsync(ct);
            await writer.WriteAsync(list.Skus, NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
            await writer.WriteAsync(list.Scores, NpgsqlDbType.Array | NpgsqlDbType.Real, ct);
        }
        return (int)await writer.CompleteAsync(ct);
    }

    static Task WriteTextAsync(NpgsqlBinaryImporter writer, string? value, CancellationToken ct) =>
        value is null ? writer.WriteNullAsync(ct) : writer.WriteAsync(value, NpgsqlDbType.Text, ct);

    /// <summary>/health/ready: Degraded while batches of the served log fail (lists are being dropped; /similar answers).</summary>
    public sealed class HealthCheck(ServedLogWriter writer) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(writer._lastBatchFailed
                ? HealthCheckResult.Degraded("The last batch of served lists could not be written; served lists are being dropped.")
                : HealthCheckResult.Healthy());
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} served lists could not be written (first request id {RequestId}); it is dropped")]
    partial void LogBatchFailed(Exception exception, int count, Guid requestId);
}
