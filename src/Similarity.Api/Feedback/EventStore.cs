using Npgsql;
using NpgsqlTypes;

namespace Similarity.Feedback;

/// <summary>An event stored by a batch, with the arm of the served list it names (null when it names none or none was found).</summary>
public sealed record StoredEvent(string EventId, string Type, short? Position, string? Arm);

/// <summary>What a batch stored, and the visitors it flagged as likely bots.</summary>
public sealed record StoredBatch(IReadOnlyList<StoredEvent> Stored, IReadOnlyList<string> FlaggedVisitors);

/// <summary>
/// Writes a batch of valid events in one round trip: one statement that claims each id in <c>event_ids</c> (the dedupe
/// across day partitions) and stores the events whose claim won, then one that flags the batch's visitors over
/// <see cref="FeedbackOptions.BotEventsPerMinute"/>. Ids are claimed in sorted order, so concurrent batches that share
/// ids wait for each other instead of deadlocking, and an id claimed by a batch that commits is a duplicate for the other.
/// </summary>
public sealed class EventStore(NpgsqlDataSource dataSource)
{
    // The served list's arm is looked up within the days an engagement can follow its list (events are accepted
    // from 72 hours back), so the lookup touches those days' partitions only.
    internal const string InsertSql = """
        WITH input AS (
            SELECT * FROM unnest(@event_ids, @types, @visitor_ids, @session_ids, @skus, @source_skus, @request_ids, @positions,
                                 @occurred_at, @quantities, @prices, @currencies)
                AS i(event_id, type, visitor_id, session_id, sku, source_sku, request_id, position, occurred_at, quantity, price, currency)
        ), fresh AS (
            INSERT INTO event_ids (event_id, occurred_at)
            SELECT event_id, occurred_at FROM input ORDER BY event_id
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id
        ), stored AS (
            INSERT INTO events (event_id, type, visitor_id, session_id, sku, source_sku, request_id, position, occurred_at,
                                quantity, price, currency)
            SELECT i.event_id, i.type, i.visitor_id, i.session_id, i.sku, i.source_sku, i.request_id, i.position, i.occurred_at,
                   i.quantity, i.price, i.currency
            FROM input i JOIN fresh f ON f.event_id = i.event_id
            RETURNING event_id, type, request_id, position, occurred_at
        )
        SELECT s.event_id, s.type, s.position, served.arm
        FROM stored s
        LEFT JOIN LATERAL (
            SELECT coalesce(l.arm, 'none') AS arm FROM served_lists l
            WHERE l.request_id = s.request_id
              AND l.served_at >= s.occurred_at - interval '4 days' AND l.served_at <= s.occurred_at + interval '10 minutes'
            LIMIT 1
        ) served ON s.position IS NOT NULL
        """;

    // Received within the last minute; occurred_at bounds the scan to the partitions an accepted event can be in.
    internal const string FlagBotsSql = """
        INSERT INTO bot_visitors (visitor_id, reason)
        SELECT e.visitor_id, format('%s events received within a minute (over %s)', count(*), @limit)
        FROM events e
        WHERE e.visitor_id = ANY(@visitors)
          AND e.occurred_at > now() - interval '73 hours'
          AND e.received_at > now() - interval '1 minute'
          AND NOT EXISTS (SELECT 1 FROM bot_visitors b WHERE b.visitor_id = e.visitor_id)
        GROUP BY e.visitor_id
        HAVING count(*) > @limit
        ON CONFLICT (visitor_id) DO NOTHING
        RETURNING visitor_id
        """;

    public Task<StoredBatch> StoreAsync(IReadOnlyList<FeedbackEvent> events, int botEventsPerMinute, CancellationToken ct) =>
        events.Count == 0 ? Task.FromResult(new StoredBatch([], [])) : DayPartitions.WriteAsync(() => StoreOnceAsync(events, botEventsPerMinute, ct));

    async Task<StoredBatch> StoreOnceAsync(IReadOnlyList<FeedbackEvent> events, int botEventsPerMinute, CancellationToken ct)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Insert(events));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(FlagBotsSql)
        {
            Parameters =
            {
                new("visitors", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.VisitorId).Distinct(StringComparer.Ordinal).ToArray() },
                new("limit", NpgsqlDbType.Integer) { Value = botEventsPerMinute },
            },
        });
        var stored = new List<StoredEvent>(events.Count);
        var flagged = new List<string>();
        await using var reader = await batch.ExecuteReaderAsync(ct);
        int id = reader.GetOrdinal("event_id"), type = reader.GetOrdinal("type"), position = reader.GetOrdinal("position"), arm = reader.GetOrdinal("arm");
        while (await reader.ReadAsync(ct))
            stored.Add(new(reader.GetString(id), reader.GetString(type), reader.IsDBNull(position) ? null : reader.GetInt16(position),
                reader.IsDBNull(arm) ? null : reader.GetString(arm)));
        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
            flagged.Add(reader.GetString(0));
        return new(stored, flagged);
    }

    /// <summary>The insert with its twelve columns as arrays, one parameter per column.</summary>
    internal static NpgsqlBatchCommand Insert(IReadOnlyList<FeedbackEvent> events)
    {
        NpgsqlParameter Column<T>(string name, NpgsqlDbType type, Func<FeedbackEvent, T> of) =>
            new(name, NpgsqlDbType.Array | type) { Value = events.Select(of).ToArray() };
        return new NpgsqlBatchCommand(InsertSql)
        {
            Parameters =
            {
                Column("event_ids", NpgsqlDbType.Text, e => e.EventId),
                Column("types", NpgsqlDbType.Text, e => e.Type),
                Column("visitor_ids", NpgsqlDbType.Text, e => e.VisitorId),
                Column("session_ids", NpgsqlDbType.Text, e => e.SessionId),
                Column("skus", NpgsqlDbType.Text, e => e.Sku),
                Column("source_skus", NpgsqlDbType.Text, e => e.SourceSku),
                Column("request_ids", NpgsqlDbType.Uuid, e => e.RequestId),
                Column("positions", NpgsqlDbType.Smallint, e => e.Position),
                Column("occurred_at", NpgsqlDbType.TimestampTz, e => e.OccurredAt.UtcDateTime),
                Column("quantities", NpgsqlDbType.Integer, e => e.Quantity),
                Column("prices", NpgsqlDbType.Numeric, e => e.Price),
                Column("currencies", NpgsqlDbType.Text, e => e.Currency),
            },
        };
    }
}
