using Npgsql;
using NpgsqlTypes;

namespace Similarity.Feedback;

/// <summary>
/// The rebuild's statements, each built here and only here with named parameters. Both read only events of visitors
/// not flagged as bots. Pure text and parameters: unit tests can hold them.
/// </summary>
public static class FeedbackRebuildSql
{
    /// <summary>Positions whose propensity is estimated: the first page of /similar (1–10).</summary>
    public const int MaxPosition = 10;

    /// <summary>
    /// For each adjacent pair (p, p+1) of /similar's served lists long enough to hold both: how many were explored at p
    /// and how many not, and in each kind how many had a click at p and at p+1 (<see cref="SwapCounts"/>).
    /// </summary>
    public static readonly string PropensityCounts = $"""
        WITH lists AS (
            SELECT request_id, explored_at, cardinality(skus) AS length FROM served_lists WHERE endpoint = 'similar'),
        clicked AS (
            SELECT DISTINCT e.request_id, e.position FROM events e
            WHERE e.type = 'click' AND e.request_id IS NOT NULL AND e.position BETWEEN 1 AND {MaxPosition}
              AND NOT EXISTS (SELECT 1 FROM bot_visitors b WHERE b.visitor_id = e.visitor_id))
        SELECT g.p AS position,
               count(*) FILTER (WHERE l.explored_at = g.p) AS explored_lists,
               count(c1.request_id) FILTER (WHERE l.explored_at = g.p) AS explored_clicks_at,
               count(c2.request_id) FILTER (WHERE l.explored_at = g.p) AS explored_clicks_next,
               count(*) FILTER (WHERE l.explored_at IS NULL) AS plain_lists,
               count(c1.request_id) FILTER (WHERE l.explored_at IS NULL) AS plain_clicks_at,
               count(c2.request_id) FILTER (WHERE l.explored_at IS NULL) AS plain_clicks_next
        FROM generate_series(1, {MaxPosition - 1}) g(p)
        JOIN lists l ON l.length > g.p AND (l.explored_at IS NULL OR l.explored_at = g.p)
        LEFT JOIN clicked c1 ON c1.request_id = l.request_id AND c1.position = g.p
        LEFT JOIN clicked c2 ON c2.request_id = l.request_id AND c2.position = g.p + 1
        GROUP BY g.p ORDER BY g.p
        """;

    /// <summary>The new propensities, after the old ones are deleted (<c>@positions</c>, <c>@propensities</c>, <c>@clicks</c>: one element per position).</summary>
    public const string ReplacePropensities = """
        INSERT INTO position_propensities (position, propensity, clicks, estimated_at)
        SELECT u.position, u.propensity, u.clicks, now() FROM unnest(@positions::smallint[], @propensities::real[], @clicks::integer[]) u(position, propensity, clicks)
        """;

    /// <summary>
    /// The new co-engagement, after the old one is deleted, from every event kept. An event weighs its type's weight, halved every
    /// half-life of its age, and — when it came from a served list — 1 / propensity of its position (clipped; 1 where no
    /// propensity is estimated). A visitor's events less than the session gap apart are one session; an item's weight in
    /// a session is the sum of its events' weights, and a pair's weight in it the smaller of its two items' (the weighted
    /// co-occurrence). A pair is kept when at least <c>@min_visitors</c> distinct visitors engaged with both in one
    /// session. Its score, in [0, 1], is <paramref name="score"/> (<see cref="CoEngagementScore"/>). Both directions are
    /// stored, each with the two items' content cosine and the row versions it was computed from (migration 0017).
    /// </summary>
    public static string ReplaceCoEngagement(CoEngagementScore score) => $"""
        WITH weighted AS (
            SELECT e.visitor_id, e.sku, e.occurred_at,
                   CASE e.type WHEN 'view' THEN @view WHEN 'click' THEN @click WHEN 'addToCart' THEN @add_to_cart ELSE @purchase END
                   * power(0.5::float8, extract(epoch FROM now() - e.occurred_at)::float8 / (@half_life_days * 86400))
                   * CASE WHEN pp.propensity IS NULL THEN 1 ELSE least(1 / pp.propensity, @max_position_weight) END AS weight,
                   CASE WHEN e.occurred_at - lag(e.occurred_at) OVER (PARTITION BY e.visitor_id ORDER BY e.occurred_at) < @session_gap
                        THEN 0 ELSE 1 END AS starts_session
            FROM events e LEFT JOIN position_propensities pp ON pp.position = e.position
            WHERE NOT EXISTS (SELECT 1 FROM bot_visitors b WHERE b.visitor_id = e.visitor_id)),
        sessions AS (
            SELECT visitor_id, sku, weight,
                   sum(starts_session) OVER (PARTITION BY visitor_id ORDER BY occurred_at ROWS UNBOUNDED PRECEDING) AS session
            FROM weighted),
        engaged AS (
            SELECT visitor_id, session, sku, sum(weight) AS weight FROM sessions GROUP BY visitor_id, session, sku),
        engaged_items AS (
            SELECT sku, sum(weight) AS weight FROM engaged GROUP BY sku),
        pairs AS (
            SELECT a.sku, b.sku AS other_sku, sum(least(a.weight, b.weight)) AS weight, count(DISTINCT a.visitor_id) AS visitors
            FROM engaged a JOIN engaged b ON b.visitor_id = a.visitor_id AND b.session = a.session AND b.sku <> a.sku
            GROUP BY a.sku, b.sku
            HAVING count(DISTINCT a.visitor_id) >= @min_visitors),
        measured AS (
            SELECT p.sku, p.other_sku, p.weight, p.visitors,
                   coalesce(p.weight / nullif(i.weight + o.weight - p.weight, 0), 0) AS jaccard,
                   coalesce(p.weight / nullif(i.weight, 0), 0) AS confidence
            FROM pairs p JOIN engaged_items i ON i.sku = p.sku JOIN engaged_items o ON o.sku = p.other_sku),
        scored AS (
            SELECT sku, other_sku, weight, visitors, {ScoreOf(score)} AS score FROM measured)
        INSERT INTO co_engagement (sku, other_sku, weight, visitors, score, content, sku_version, other_version)
        SELECT s.sku, s.other_sku, s.weight, s.visitors, s.score, {PairContent("a", "b")}
        FROM scored s LEFT JOIN items a ON a.sku = s.sku LEFT JOIN items b ON b.sku = s.other_sku
        -- each item's pairs together on disk: a page reads its item's pairs from one or two pages
        ORDER BY s.sku, s.other_sku
        """;

    /// <summary>
    /// A pair's <c>content, sku_version, other_version</c> from the rows <paramref name="item"/> and <paramref name="other"/>
    /// of <c>items</c>: their fused cosine (NULL across model sets) and the row versions it was computed from.
    /// </summary>
    public static string PairContent(string item, string other) =>
        $"CASE WHEN {item}.fingerprint = {other}.fingerprint THEN 1 - ({item}.embedding <=> {other}.embedding) END, {item}.xmin, {other}.xmin";

    /// <summary>The score column's expression over <c>measured</c>'s row for <paramref name="score"/>.</summary>
    static string ScoreOf(CoEngagementScore score) => score switch
    {
        CoEngagementScore.Jaccard => "jaccard",
        CoEngagementScore.JaccardByMax => "coalesce(jaccard / nullif(max(jaccard) OVER (PARTITION BY sku), 0), 0)",
        CoEngagementScore.Confidence => "least(confidence, 1)",
        CoEngagementScore.ConfidenceByMax => "coalesce(weight / nullif(max(weight) OVER (PARTITION BY sku), 0), 0)",
        _ => throw new ArgumentOutOfRangeException(nameof(score), score, "not a co-engagement score"),
    };

    /// <summary>The named parameters of <see cref="ReplaceCoEngagement(CoEngagementScore)"/>, from the options.</summary>
    public static NpgsqlParameter[] CoEngagementParameters(FeedbackOptions options) =>
    [
        new("view", options.Weights.View), new("click", options.Weights.Click),
        new("add_to_cart", options.Weights.AddToCart), new("purchase", options.Weights.Purchase),
        new("half_life_days", options.HalfLifeDays), new("max_position_weight", options.MaxPositionWeight),
        new("session_gap", NpgsqlDbType.Interval) { Value = options.SessionGap }, new("min_visitors", (long)options.MinCoVisitors),
    ];

    /// <summary>What each rebuild folded in: one row per learned thing, with the last event's arrival.</summary>
    public const string Bookkeeping = """
        INSERT INTO feedback_rebuilds (name, rebuilt_at, events_through, rows_written)
        SELECT u.name, now(), (SELECT max(received_at) FROM events), u.rows_written
        FROM unnest(ARRAY['propensities', 'coEngagement'], ARRAY[@propensities, @co_engagement]::integer[]) u(name, rows_written)
        ON CONFLICT (name) DO UPDATE SET rebuilt_at = excluded.rebuilt_at, events_through = excluded.events_through, rows_written = excluded.rows_written
        """;
}
