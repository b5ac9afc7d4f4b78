using Npgsql;

namespace Similarity.Feedback;

/// <summary>How many rows of a visitor an erasure deleted.</summary>
public sealed record ErasedVisitor(string VisitorId, long Events, long ServedLists, long BotFlags);

/// <summary>
/// Erases a visitor: every event (and its id in <c>event_ids</c>), every served list and the bot flag, in one
/// transaction. Learned aggregates are rebuilt from these tables, so they forget the visitor at their next rebuild.
/// </summary>
public sealed class VisitorErasure(NpgsqlDataSource dataSource)
{
    const string EventsSql = """
        WITH gone AS (DELETE FROM events WHERE visitor_id = @visitor RETURNING event_id),
             ids AS (DELETE FROM event_ids WHERE event_id IN (SELECT event_id FROM gone))
        SELECT count(*) FROM gone
        """;

    public async Task<ErasedVisitor> EraseAsync(string visitorId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        NpgsqlCommand Command(string sql)
        {
            var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.AddWithValue("visitor", visitorId);
            return command;
        }
        await using var events = Command(EventsSql);
        var eventCount = (long)(await events.ExecuteScalarAsync(ct))!;
        await using var served = Command("DELETE FROM served_lists WHERE visitor_id = @visitor");
        var servedCount = await served.ExecuteNonQueryAsync(ct);
        await using var bots = Command("DELETE FROM bot_visitors WHERE visitor_id = @visitor");
        var botCount = await bots.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
        return new(visitorId, eventCount, servedCount, botCount);
    }
}
