using Npgsql;

namespace Similarity.Database;

/// <summary>
/// One duty's leadership on this instance. <see cref="HoldAsync"/> is called before each unit of work: it keeps the
/// lease (the election's lock on its own connection, checked alive) or tries to win it, and says whether to work.
/// A new leader first waits for the fence, so no unit of work of a leader that has just lost the lease runs beside its
/// own; a unit that takes <see cref="FenceAsync"/> in its transaction is refused once the lease is lost. Invariant:
/// at any moment at most one instance's units of a duty run past their fence.
/// </summary>
public sealed partial class Lease(string duty, NpgsqlDataSource primary, string instance, ILogger logger) : IAsyncDisposable
{
    /// <summary>How often a held lease's connection is checked alive, at most.</summary>
    static readonly TimeSpan CheckPeriod = TimeSpan.FromMilliseconds(250);

    readonly SemaphoreSlim _gate = new(1, 1);
    readonly int _key = Leadership.KeyOf(duty);
    NpgsqlConnection? _connection;
    DateTime _checkedAt;

    public string Duty => duty;

    public bool IsHeld => _connection is not null;

    /// <summary>The backend process of the lease's connection, which holds the election's lock; 0 when not held.</summary>
    public int HolderPid { get; private set; }

    /// <summary>True when this instance leads the duty now (kept, or won just now); false when another one does or the primary is unreachable.</summary>
    public async ValueTask<bool> HoldAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (_connection is not null)
            {
                if (DateTime.UtcNow - _checkedAt < CheckPeriod)
                    return true;
                try
                {
                    await ExecuteAsync(_connection, "SELECT 1", ct);
                    _checkedAt = DateTime.UtcNow;
                    return true;
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !ct.IsCancellationRequested)
                {
                    LogLost(duty, instance, ex);
                    await DropAsync();
                }
            }
            return await TryWinAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    async Task<bool> TryWinAsync(CancellationToken ct)
    {
        NpgsqlConnection? connection = null;
        try
        {
            connection = await primary.OpenConnectionAsync(ct);
            await using (var take = new NpgsqlCommand("SELECT pg_try_advisory_lock($1, $2), pg_backend_pid()", connection))
            {
                take.Parameters.Add(new() { Value = Leadership.ElectionKey });
                take.Parameters.Add(new() { Value = _key });
                await using var reader = await take.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                if (!reader.GetBoolean(0))
                {
                    await reader.DisposeAsync();
                    await connection.DisposeAsync();
                    return false;
                }
                HolderPid = reader.GetInt32(1);
            }
            // The fence: units of work still running under a lease lost a moment ago hold it shared; wait for them to end.
            await ExecuteAsync(connection, $"SELECT pg_advisory_lock({Leadership.FenceKey}, {_key}); SELECT pg_advisory_unlock({Leadership.FenceKey}, {_key})", ct);
            (_connection, _checkedAt) = (connection, DateTime.UtcNow);
            LogWon(duty, instance);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !ct.IsCancellationRequested)
        {
            if (connection is not null)
                await connection.DisposeAsync();
            HolderPid = 0;
            return false;
        }
    }

    /// <summary>
    /// Inside a unit of work's transaction, before it writes: holds the fence (shared) until the transaction ends and
    /// checks that this instance still holds the election's lock; throws <see cref="LeaseLostException"/> when it does not.
    /// </summary>
    public async Task FenceAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"""
            SELECT pg_advisory_xact_lock_shared({Leadership.FenceKey}, {_key});
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = {Leadership.ElectionKey} AND objid = {_key}
                           AND objsubid = 2 AND pid = $1 AND granted)
            """, connection, transaction);
        command.Parameters.Add(new() { Value = HolderPid });
        if (HolderPid == 0 || await command.ExecuteScalarAsync(ct) is not true)
            throw new LeaseLostException(duty);
    }

    async Task DropAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            HolderPid = 0;
            await connection.DisposeAsync();
        }
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await DropAsync();
        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Duty {Duty}: this instance ({Instance}) leads it")]
    static partial void LogWon(ILogger logger, string duty, string instance);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Duty {Duty}: this instance ({Instance}) lost its lease")]
    static partial void LogLost(ILogger logger, string duty, string instance, Exception exception);

    void LogWon(string d, string i) => LogWon(logger, d, i);

    void LogLost(string d, string i, Exception ex) => LogLost(logger, d, i, ex);
}

/// <summary>A unit of work found its duty's lease lost (another instance leads now): it rolls back and does nothing.</summary>
public sealed class LeaseLostException(string duty) : Exception($"This instance no longer leads the duty '{duty}'.");
