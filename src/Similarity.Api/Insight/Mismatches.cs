using Npgsql;
using NpgsqlTypes;
using Similarity.Database;

namespace Similarity.Insight;

/// <summary>
/// Pictures that do not show what their text says. The stored image and text vectors are both projections into the
/// fused space, trained to agree (CLIP's loss), so an item's agreement is their cosine. Its score is how far that
/// falls below its category's typical agreement (the median; the whole catalog's where the category has fewer than
/// <see cref="InsightOptions.MinCategoryItems"/> items): the higher, the likelier the picture is someone else's.
/// Computed on request over the live set's items (the agreement is a column the database keeps: migration 0016), so it
/// is as current as the items. What the picture resembles instead: the three items of nearest picture in the live set
/// (an exact scan of the image vectors, which have no index: one pass for the whole page).
/// </summary>
public sealed class Mismatches(NpgsqlDataSource dataSource)
{
    public sealed record Resemblance(string Sku, string Title, double Score);

    /// <summary>One scored item; <c>Likely</c>: its score reaches <see cref="InsightOptions.MismatchMargin"/>, the margin the import checks list a mismatch from.</summary>
    public sealed record MismatchItem(string Sku, string Title, string? Category, double Agreement, double Typical, double Score, IReadOnlyList<Resemblance> ResemblesInstead,
        bool Likely = false);

    public sealed record MismatchPage(long Total, IReadOnlyList<MismatchItem> Items);

    /// <summary>Items listed from the likeliest mismatch down; only <paramref name="skus"/> when given, only those scoring at least <paramref name="minScore"/>.</summary>
    public Task<MismatchPage> FindAsync(string[]? skus, double? minScore, int after, int limit, int minCategoryItems, CancellationToken ct) =>
        dataSource.ReadWithRetryAsync(async ct =>
        {
            await using var command = dataSource.CreateCommand($"""
                WITH live AS (SELECT fingerprint FROM model_sets WHERE status = 'live'),
                agreement AS (
                    SELECT sku, title, category, agreement FROM items
                    WHERE fingerprint = (SELECT fingerprint FROM live) AND agreement IS NOT NULL),
                per_category AS (
                    SELECT category, count(*) AS items, percentile_cont(0.5) WITHIN GROUP (ORDER BY agreement) AS typical
                    FROM agreement GROUP BY category),
                overall AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY agreement) AS typical FROM agreement),
                scored AS (
                    SELECT a.sku, a.title, a.category, a.agreement,
                           CASE WHEN c.items >= @min_category_items THEN c.typical ELSE o.typical END AS typical
                    FROM agreement a LEFT JOIN per_category c ON c.category IS NOT DISTINCT FROM a.category CROSS JOIN overall o),
                listed AS (
                    SELECT *, typical - agreement AS score FROM scored
                    WHERE (@skus::text[] IS NULL OR sku = ANY(@skus)) AND (@min_score::float8 IS NULL OR typical - agreement >= @min_score)),
                page AS (
                    SELECT *, count(*) OVER () AS total FROM listed ORDER BY score DESC, sku OFFSET @after LIMIT @limit),
                -- the listed items' pictures, copied out of TOAST once (subvector), for the scan below
                pictures AS MATERIALIZED (
                    SELECT p.sku, subvector(i.image_embedding, 1, vector_dims(i.image_embedding)) AS image FROM page p JOIN items i USING (sku)),
                -- one pass over the live set's pictures for every listed item at once, each picture read once: a scan
                -- per listed item read each again (20 listed items at 100 000: 32 s)
                nearest AS (
                    SELECT page_sku, sku, distance, row_number() OVER (PARTITION BY page_sku ORDER BY distance, sku) AS place
                    FROM (SELECT pic.sku AS page_sku, i.sku, i.image <=> pic.image AS distance
                          FROM (SELECT sku, subvector(image_embedding, 1, vector_dims(image_embedding)) AS image FROM items
                                WHERE fingerprint = (SELECT fingerprint FROM live) AND image_embedding IS NOT NULL
                                  AND EXISTS (SELECT 1 FROM pictures) OFFSET 0) i
                          CROSS JOIN pictures pic
                          WHERE i.sku <> pic.sku) pairs),
                resemblance AS (
                    SELECT n.page_sku, array_agg(n.sku ORDER BY n.place) AS skus, array_agg(i.title ORDER BY n.place) AS titles,
                           array_agg(1 - n.distance ORDER BY n.place) AS scores
                    FROM nearest n JOIN items i USING (sku) WHERE n.place <= 3 GROUP BY n.page_sku)
                SELECT p.sku, p.title, p.category, p.agreement, p.typical, p.score, p.total,
                       coalesce(r.skus, ARRAY[]::text[]) AS resembles, coalesce(r.titles, ARRAY[]::text[]) AS resembles_titles, coalesce(r.scores, ARRAY[]::float8[]) AS resembles_scores
                FROM page p LEFT JOIN resemblance r ON r.page_sku = p.sku
                ORDER BY p.score DESC, p.sku
                """);
            command.Parameters.Add(new("min_category_items", minCategoryItems));
            command.Parameters.Add(new("skus", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)skus ?? DBNull.Value });
            command.Parameters.Add(new("min_score", NpgsqlDbType.Double) { Value = (object?)minScore ?? DBNull.Value });
            command.Parameters.Add(new("after", after));
            command.Parameters.Add(new("limit", limit));
            await using var reader = await command.ExecuteReaderAsync(ct);
            var items = new List<MismatchItem>();
            long total = 0;
            while (await reader.ReadAsync(ct))
            {
                total = reader.GetInt64(reader.GetOrdinal("total"));
                var resembles = reader.GetFieldValue<string[]>(reader.GetOrdinal("resembles"));
                var titles = reader.GetFieldValue<string[]>(reader.GetOrdinal("resembles_titles"));
                var scores = reader.GetFieldValue<double[]>(reader.GetOrdinal("resembles_scores"));
                items.Add(new MismatchItem(reader.GetString(reader.GetOrdinal("sku")), reader.GetString(reader.GetOrdinal("title")),
                    reader.IsDBNull(reader.GetOrdinal("category")) ? null : reader.GetString(reader.GetOrdinal("category")),
                    Math.Round(reader.GetDouble(reader.GetOrdinal("agreement")), 6), Math.Round(reader.GetDouble(reader.GetOrdinal("typical")), 6),
                    Math.Round(reader.GetDouble(reader.GetOrdinal("score")), 6),
                    [.. resembles.Select((s, i) => new Resemblance(s, titles[i], Math.Round(scores[i], 6)))]));
            }
            return new MismatchPage(total, items);
        }, ct);
}
