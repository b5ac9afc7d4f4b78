using Npgsql;

namespace Similarity.Database;

/// <summary>Which database errors are worth retrying, and how to name one without PostgreSQL's own text.</summary>
public static class DatabaseFaults
{
    /// <summary>
    /// Connection loss and refusal (any 08xxx, or a socket error under an <see cref="NpgsqlException"/>), a server
    /// shutting down or starting (57P01, 57P02, 57P03), serialization failures and deadlocks (40001, 40P01), what
    /// Npgsql itself calls transient (resource limits, lock timeouts), and a failover's moments: a write on a primary
    /// being demoted (25006, read-only) or a multi-host connection that found no host of the kind it needs.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                or PostgresErrorCodes.ReadOnlySqlTransaction
            || pg.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient || IsNoSuitableHost(npgsql),
        _ => false,
    };

    // Npgsql says so only in words ("No suitable host was found.", "Unable to connect to a suitable host."): a bare
    // NpgsqlException of its multi-host source, with the hosts' own failures (if it tried any) in an AggregateException.
    static bool IsNoSuitableHost(NpgsqlException exception) =>
        exception.InnerException is null or AggregateException
        && exception.Message.Contains("suitable host", StringComparison.Ordinal);

    /// <summary>The connection itself is gone (a restart, a killed backend): the pool's idle connections are likely dead too.</summary>
    public static bool IsConnectionLoss(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };

    /// <summary>
    /// The fault in words for a client or a job's <c>error</c>: its kind and SQLSTATE, never the server's message
    /// (which can quote values, object names and addresses). The whole exception goes to the log.
    /// </summary>
    public static string Describe(Exception exception) => exception switch
    {
        PostgresException pg => $"{KindOf(pg.SqlState)} (SQLSTATE {pg.SqlState})",
        NpgsqlException => "the connection to the database failed",
        TimeoutException => "the database did not answer in time",
        _ => "an unexpected error",
    };

    static string KindOf(string sqlState) => sqlState switch
    {
        PostgresErrorCodes.SerializationFailure => "a serialization failure",
        PostgresErrorCodes.DeadlockDetected => "a deadlock",
        PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown => "the database shutting down",
        PostgresErrorCodes.CannotConnectNow => "the database starting up",
        _ when sqlState.StartsWith("08", StringComparison.Ordinal) => "a lost connection",
        _ when sqlState.StartsWith("53", StringComparison.Ordinal) => "the database out of resources",
        _ when sqlState.StartsWith("22", StringComparison.Ordinal) => "a value the database cannot store",
        _ when sqlState.StartsWith("23", StringComparison.Ordinal) => "a broken database rule",
        _ => "a database error",
    };

    /// <summary>
    /// Runs a read, and again on a transient fault after dropping the pool's idle connections: after a database
    /// restart every pooled connection is dead, and the first use of each fails. Several attempts, because under load
    /// a retry was seen to draw a second dead connection (returned to the pool as the first was cleared), and the last
    /// one after a second: in a failover every host may be down or restarting for a moment, and Npgsql asks a host it
    /// marked down again only after Host Recheck Seconds. A read that still fails is the caller's 503. Reads only:
    /// running one twice changes nothing.
    /// </summary>
    public static async Task<T> ReadWithRetryAsync<T>(this NpgsqlDataSource dataSource, Func<CancellationToken, Task<T>> read, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await read(ct);
            }
            catch (Exception ex) when (attempt < ReadAttempts && IsTransient(ex) && !ct.IsCancellationRequested)
            {
                dataSource.Clear();
                await Task.Delay(RetryDelays[attempt - 1], ct);
            }
        }
    }

    // A server just coming back may refuse the first new connection: a moment, then more; the last past the 1 s Host
    // Recheck Seconds of the formation's connection string.
    static readonly TimeSpan[] RetryDelays = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(1100)];
    static readonly int ReadAttempts = RetryDelays.Length + 1;
}
