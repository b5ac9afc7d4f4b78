using Npgsql;
using NpgsqlTypes;
using Similarity.Database;

namespace Similarity.Insight;

/// <summary>
/// Reads what the duplicate groups are made of: the candidate pairs from the neighbour lists (each item's first
/// <c>depth</c> neighbours by fused cosine), scored in the vector the caller chose, and the groups' members and
/// their pairwise scores. Computed on request from the current lists, so the groups follow every change the
/// list worker has folded in.
/// </summary>
public sealed class DuplicateStore(NpgsqlDataSource dataSource)
{
    public sealed record DuplicateMember(string Sku, string Title, string? Description, string? Brand, decimal? Price, string? Currency, string? Category, bool HasPicture);

    /// <summary>
    /// Pairs over <paramref name="minScore"/> in <paramref name="column"/> among each listed item's first <paramref name="depth"/>
    /// neighbours, and with <paramref name="minImage"/> above 0 also over it in the image vectors where both items have a picture.
    /// </summary>
    public Task<List<DuplicateGrouping.Pair>> PairsAsync(string column, double minScore, int depth, double minImage, CancellationToken ct) =>
        dataSource.ReadWithRetryAsync(async ct =>
        {
            // The fused score is the list's own; another vector is scored on the pair itself, both items of the live set.
            var score = column == "embedding" ? "c.score" : $"1 - (a.{column} <=> b.{column})";
            await using var command = dataSource.CreateCommand($"""
                WITH live AS (SELECT fingerprint FROM model_sets WHERE status = 'live'),
                candidates AS (
                    SELECT DISTINCT least(l.sku, n.other) AS sku, greatest(l.sku, n.other) AS other_sku, n.score
                    FROM similar_lists l CROSS JOIN LATERAL unnest(l.neighbours[1:$2], l.scores[1:$2]) AS n(other, score)
                    WHERE l.fingerprint = (SELECT fingerprint FROM live))
                SELECT c.sku, c.other_sku, {score} AS score
                FROM candidates c JOIN items a ON a.sku = c.sku JOIN items b ON b.sku = c.other_sku
                WHERE a.{column} IS NOT NULL AND b.{column} IS NOT NULL AND {score} >= $1
                  AND ($3 <= 0 OR a.image_embedding IS NULL OR b.image_embedding IS NULL OR 1 - (a.image_embedding <=> b.image_embedding) >= $3)
                """);
            command.Parameters.Add(new() { Value = minScore });
            command.Parameters.Add(new() { Value = depth });
            command.Parameters.Add(new() { Value = minImage });
            await using var reader = await command.ExecuteReaderAsync(ct);
            var pairs = new List<DuplicateGrouping.Pair>();
            var (sku, other, value) = (reader.GetOrdinal("sku"), reader.GetOrdinal("other_sku"), reader.GetOrdinal("score"));
            while (await reader.ReadAsync(ct))
                pairs.Add(new(reader.GetString(sku), reader.GetString(other), reader.GetDouble(value)));
            // A pair listed from both sides comes once per score it was stored with: keep the higher.
            return pairs.GroupBy(p => (p.Sku, p.OtherSku)).Select(g => g.MaxBy(p => p.Score)!).ToList();
        }, ct);

    /// <summary>The fields of <paramref name="skus"/> as stored, by SKU.</summary>
    public Task<Dictionary<string, DuplicateMember>> MembersAsync(IReadOnlyCollection<string> skus, CancellationToken ct) =>
        dataSource.ReadWithRetryAsync(async ct =>
        {
            await using var command = dataSource.CreateCommand("""
                SELECT sku, title, description, brand, price, currency, category, image_embedding IS NOT NULL AS has_picture
                FROM items WHERE sku = ANY($1)
                """);
            command.Parameters.Add(new() { Value = skus.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            var members = new Dictionary<string, DuplicateMember>(StringComparer.Ordinal);
            while (await reader.ReadAsync(ct))
                members[reader.GetString(reader.GetOrdinal("sku"))] = ReadMember(reader);
            return members;
        }, ct);

    /// <summary>Every pair within each group, scored in <paramref name="column"/>; <paramref name="groups"/> gives each SKU its group's number.</summary>
    public Task<List<(int Group, DuplicateGrouping.Pair Pair)>> GroupPairsAsync(string column, IReadOnlyList<IReadOnlyList<string>> groups, CancellationToken ct) =>
        dataSource.ReadWithRetryAsync(async ct =>
        {
            await using var command = dataSource.CreateCommand($"""
                WITH m AS (SELECT * FROM unnest($1::text[], $2::integer[]) AS m(sku, grp))
                SELECT x.grp, x.sku, y.sku AS other_sku, 1 - (a.{column} <=> b.{column}) AS score
                FROM m x JOIN m y ON y.grp = x.grp AND y.sku > x.sku
                JOIN items a ON a.sku = x.sku JOIN items b ON b.sku = y.sku
                ORDER BY x.grp, score DESC, x.sku, y.sku
                """);
            command.Parameters.Add(new() { Value = groups.SelectMany(g => g).ToArray() });
            command.Parameters.Add(new() { Value = groups.SelectMany((g, i) => g.Select(_ => i)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
            await using var reader = await command.ExecuteReaderAsync(ct);
            var pairs = new List<(int, DuplicateGrouping.Pair)>();
            while (await reader.ReadAsync(ct))
            {
                var score = reader.IsDBNull(reader.GetOrdinal("score")) ? double.NaN : reader.GetDouble(reader.GetOrdinal("score"));
                pairs.Add((reader.GetInt32(reader.GetOrdinal("grp")),
                    new(reader.GetString(reader.GetOrdinal("sku")), reader.GetString(reader.GetOrdinal("other_sku")), score)));
            }
            return pairs;
        }, ct);

    static DuplicateMember ReadMember(NpgsqlDataReader reader)
    {
        string? Text(string column) => reader.IsDBNull(reader.GetOrdinal(column)) ? null : reader.GetString(reader.GetOrdinal(column));
        return new DuplicateMember(reader.GetString(reader.GetOrdinal("sku")), reader.GetString(reader.GetOrdinal("title")), Text("description"),
            Text("brand"), reader.IsDBNull(reader.GetOrdinal("price")) ? null : reader.GetDecimal(reader.GetOrdinal("price")),
            Text("currency"), Text("category"), reader.GetBoolean(reader.GetOrdinal("has_picture")));
    }
}
