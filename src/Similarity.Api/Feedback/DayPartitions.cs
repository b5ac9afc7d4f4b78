using System.Globalization;
using Npgsql;

namespace Similarity.Feedback;

/// <summary>
/// The day partitions of one table (<c>served_lists</c> by <c>served_at</c>, <c>events</c> by <c>occurred_at</c>), each
/// named <c>{table}_yyyyMMdd</c> and holding one UTC day. Creates a day's partition, first moving that day's rows out
/// of the default partition (where rows land when their day has none) so the attach can succeed; drops the days older
/// than the retention whole. Names and bounds come from dates only: nothing a client sent reaches this DDL.
/// </summary>
public sealed record DayPartitions(string Table, string Column)
{
    public static readonly DayPartitions Served = new("served_lists", "served_at");
    public static readonly DayPartitions Events = new("events", "occurred_at");

    public string NameOf(DateOnly day) => $"{Table}_{day:yyyyMMdd}";

    public DateOnly? DayOf(string partition) =>
        partition.Length == Table.Length + 9 && partition.StartsWith(Table + "_", StringComparison.Ordinal)
        && DateOnly.TryParseExact(partition[(Table.Length + 1)..], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day : null;

    /// <summary>The days that have a partition of their own now.</summary>
    public async Task<HashSet<DateOnly>> ExistingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            SELECT c.relname FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = @table
            """, connection, transaction);
        command.Parameters.AddWithValue("table", Table);
        var days = new HashSet<DateOnly>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (DayOf(reader.GetString(0)) is { } day)
                days.Add(day);
        }
        return days;
    }

    /// <summary>The days of the rows that landed in the default partition.</summary>
    public async Task<List<DateOnly>> StrandedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT DISTINCT ({Column} AT TIME ZONE 'UTC')::date FROM {Table}_default", connection, transaction);
        var days = new List<DateOnly>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            days.Add(reader.GetFieldValue<DateOnly>(0));
        return days;
    }

    /// <summary>Creates the day's partition with the day's rows from the default partition in it; answers how many moved.</summary>
    public async Task<int> CreateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DateOnly day, CancellationToken ct)
    {
        var name = NameOf(day);
        var (from, to) = (Bound(day), Bound(day.AddDays(1)));
        await Execute($"CREATE TABLE {name} (LIKE {Table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
        var moved = await Execute($"""
            WITH moved AS (DELETE FROM {Table}_default WHERE {Column} >= '{from}' AND {Column} < '{to}' RETURNING *)
            INSERT INTO {name} SELECT * FROM moved
            """);
        await Execute($"ALTER TABLE {Table} ATTACH PARTITION {name} FOR VALUES FROM ('{from}') TO ('{to}')");
        return moved;

        async Task<int> Execute(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            return await command.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>
    /// Runs a write into a partitioned table, once more if it lost a race with a pass: a row routed to the default
    /// partition while the pass attached that day's partition fails (23514) once the attach commits; written again, it
    /// goes to the new partition. The write must be one transaction, so the failed try left nothing behind.
    /// </summary>
    public static async Task<T> WriteAsync<T>(Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CheckViolation && ex.TableName?.EndsWith("_default", StringComparison.Ordinal) == true)
        {
            return await write();
        }
    }

    public async Task DropAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DateOnly day, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"DROP TABLE {NameOf(day)}", connection, transaction);
        await command.ExecuteNonQueryAsync(ct);
    }

    static string Bound(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + " 00:00:00+00";
}
