using Npgsql;

namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>
/// Faults injected where the service writes items, in a test's own database: a trigger on <c>items</c> that
/// fails writes with a given SQLSTATE, or a gate that holds writes after a number of rows until the test opens it.
/// Triggers count rows with a sequence, which a rolled-back transaction does not undo. Add them once the
/// service's vector index is valid (<see cref="SimilarityApp.StartAsync"/>).
/// </summary>
public static class ItemWriteFaults
{
    /// <summary>
    /// Lets <paramref name="skip"/> rows be written to items, then fails the next <paramref name="times"/> row
    /// writes (every one when null) with <paramref name="sqlState"/>.
    /// </summary>
    public static async Task<IAsyncDisposable> FailAsync(TestDatabase database, string sqlState, int skip = 0, int? times = null)
    {
        var last = times is { } n ? (skip + n).ToString(System.Globalization.CultureInfo.InvariantCulture) : "NULL";
        await database.ExecuteAsync($"""
            CREATE SEQUENCE fault_rows;
            CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                n bigint := nextval('fault_rows');
            BEGIN
                IF n > {skip} AND (n <= {last}) IS NOT FALSE THEN
                    RAISE EXCEPTION 'injected fault: the raw database text no client should see' USING ERRCODE = '{sqlState}';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER inject_fault BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION inject_fault();
            """);
        return new Cleanup(database, "DROP TRIGGER inject_fault ON items; DROP FUNCTION inject_fault(); DROP SEQUENCE fault_rows;");
    }

    sealed class Cleanup(TestDatabase database, string sql) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await database.ExecuteAsync(sql);
    }

    /// <summary>Lets <paramref name="rows"/> rows be written to items, then holds every further write until the gate opens.</summary>
    public static async Task<Gate> CloseAfterAsync(TestDatabase database, int rows)
    {
        var connection = await database.OpenAsync();
        await Execute(connection, $"SELECT pg_advisory_lock({Gate.Key})");
        await Execute(connection, $"""
            CREATE SEQUENCE gate_rows;
            CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('gate_rows') > {rows} THEN
                    PERFORM pg_advisory_xact_lock_shared({Gate.Key});
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER gate BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION gate();
            """);
        return new Gate(connection);
    }

    static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The gate: closed while its own connection holds an advisory lock that the trigger waits for.</summary>
    public sealed class Gate(NpgsqlConnection connection) : IAsyncDisposable
    {
        internal const long Key = 77_001;
        bool _open;

        /// <summary>Waits, polling the server's own view, until some session is held at the gate.</summary>
        public async Task WaitUntilHeldAsync(int timeoutSeconds = 60)
        {
            var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
            while (true)
            {
                await using var command = new NpgsqlCommand($"""
                    SELECT count(*) FROM pg_locks
                    WHERE locktype = 'advisory' AND objid = {Key} AND NOT granted AND pid <> pg_backend_pid()
                    """, connection);
                if ((long)(await command.ExecuteScalarAsync())! > 0)
                    return;
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"no write reached the gate in {timeoutSeconds} s");
                await Task.Delay(20);
            }
        }

        /// <summary>Ends every other session of this database (as a restart would), keeping the gate's own.</summary>
        public Task KillOtherSessionsAsync() =>
            Execute(connection, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");

        public async Task OpenAsync()
        {
            if (_open)
                return;
            _open = true;
            await Execute(connection, $"SELECT pg_advisory_unlock({Key})");
        }

        public async ValueTask DisposeAsync()
        {
            await OpenAsync();
            await Execute(connection, "DROP TRIGGER gate ON items; DROP FUNCTION gate(); DROP SEQUENCE gate_rows;");
            await connection.DisposeAsync();
        }
    }
}
