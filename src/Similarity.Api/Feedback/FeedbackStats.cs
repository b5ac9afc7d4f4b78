using Npgsql;
using Similarity.Database;

namespace Similarity.Feedback;

/// <summary>One group's impressions (results shown), clicks and adds to cart on them, and the rates these make.</summary>
public sealed record EngagementRates(long Impressions, long Clicks, long AddsToCart)
{
    public double Ctr => Impressions == 0 ? 0 : (double)Clicks / Impressions;
    public double AddToCartRate => Impressions == 0 ? 0 : (double)AddsToCart / Impressions;
}

public sealed record PositionRates(int Position, EngagementRates Rates);

public sealed record DayRates(DateOnly Day, EngagementRates Rates);

/// <summary>An experiment's side: <c>control</c> or <c>treatment</c> (for an interleaved answer, the team that picked the position).</summary>
public sealed record ArmRates(string Experiment, string Arm, EngagementRates Rates);

public sealed record StatsReport(DateTimeOffset Since, IReadOnlyList<PositionRates> ByPosition, IReadOnlyList<DayRates> ByDay, IReadOnlyList<ArmRates> ByArm);

/// <summary>
/// Click-through and add-to-cart rates of the served lists, by position, by day (UTC) and per experiment side, read from
/// <c>served_lists</c> and the <c>events</c> that name their request id and position. An impression is one result shown
/// at one position; every click (or add to cart) on it counts, except those of visitors flagged as bots. The rates are
/// engagements / impressions, as the <c>/metrics</c> counters make them.
/// </summary>
public sealed class FeedbackStats([FromKeyedServices(DatabaseExtensions.ReadsKey)] NpgsqlDataSource dataSource)
{
    public const string Sql = """
        WITH served AS (
            SELECT request_id, query_sku, (served_at AT TIME ZONE 'UTC')::date AS day, experiment, arm, teams, cardinality(skus) AS shown
            FROM served_lists WHERE served_at >= @since
        ), engaged AS (
            SELECT s.request_id, s.query_sku, e.position,
                   count(*) FILTER (WHERE e.type = 'click') AS clicks, count(*) FILTER (WHERE e.type = 'addToCart') AS carts
            FROM served s
            JOIN events e ON e.request_id = s.request_id AND e.position BETWEEN 1 AND s.shown
                -- a batch's lists share one request id: the event's source item tells them apart
                AND (e.source_sku IS NULL OR s.query_sku IS NULL OR e.source_sku = s.query_sku)
            WHERE e.type IN ('click', 'addToCart') AND e.occurred_at >= @since - interval '1 day'
              AND NOT EXISTS (SELECT 1 FROM bot_visitors b WHERE b.visitor_id = e.visitor_id)
            GROUP BY s.request_id, s.query_sku, e.position
        ), shown AS (
            SELECT s.day, s.experiment, p.position,
                   CASE WHEN s.arm = 'interleaved'
                        THEN CASE substr(s.teams, p.position, 1) WHEN 'A' THEN 'control' WHEN 'B' THEN 'treatment' END
                        ELSE s.arm END AS side,
                   coalesce(g.clicks, 0) AS clicks, coalesce(g.carts, 0) AS carts
            FROM served s
            CROSS JOIN LATERAL generate_series(1, s.shown) AS p(position)
            LEFT JOIN engaged g ON g.request_id = s.request_id AND g.query_sku IS NOT DISTINCT FROM s.query_sku AND g.position = p.position
        )
        SELECT 'position' AS dimension, position::text AS key, NULL AS experiment, count(*) AS impressions, sum(clicks)::bigint AS clicks, sum(carts)::bigint AS carts
        FROM shown WHERE position <= @positions GROUP BY position
        UNION ALL
        SELECT 'day', day::text, NULL, count(*), sum(clicks)::bigint, sum(carts)::bigint FROM shown GROUP BY day
        UNION ALL
        SELECT 'arm', side, experiment, count(*), sum(clicks)::bigint, sum(carts)::bigint FROM shown
        WHERE experiment IS NOT NULL AND side IS NOT NULL GROUP BY experiment, side
        """;

    public Task<StatsReport> ReadAsync(DateTimeOffset since, int positions, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter("since", since));
        command.Parameters.Add(new NpgsqlParameter("positions", positions));
        await using var reader = await command.ExecuteReaderAsync(ct);
        List<PositionRates> byPosition = [];
        List<DayRates> byDay = [];
        List<ArmRates> byArm = [];
        while (await reader.ReadAsync(ct))
        {
            var key = reader.GetString(reader.GetOrdinal("key"));
            var rates = new EngagementRates(reader.GetInt64(reader.GetOrdinal("impressions")), reader.GetInt64(reader.GetOrdinal("clicks")),
                reader.GetInt64(reader.GetOrdinal("carts")));
            switch (reader.GetString(reader.GetOrdinal("dimension")))
            {
                case "position": byPosition.Add(new(int.Parse(key, System.Globalization.CultureInfo.InvariantCulture), rates)); break;
                case "day": byDay.Add(new(DateOnly.ParseExact(key, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), rates)); break;
                default: byArm.Add(new(reader.GetString(reader.GetOrdinal("experiment")), key, rates)); break;
            }
        }
        return new StatsReport(since, [.. byPosition.OrderBy(p => p.Position)], [.. byDay.OrderBy(d => d.Day)],
            [.. byArm.OrderBy(a => a.Experiment, StringComparer.Ordinal).ThenBy(a => a.Arm, StringComparer.Ordinal)]);
    }, ct);
}
