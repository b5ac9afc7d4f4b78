using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using Similarity.Database;

namespace Similarity.Insight;

/// <summary>
/// The clusters' tables (<c>insight_clusters</c>, <c>insight_cluster_members</c>, <c>insight_state</c>): the catalog
/// read for a clustering, how much changed since the last one, the new clustering written whole in one transaction
/// (readers see the old one or the new one), and the reads of the API.
/// </summary>
public sealed class ClusterStore(NpgsqlDataSource dataSource)
{
    /// <summary>An item as the clustering reads it: its <see cref="Clustering.PointOf">point</see> (of its fused and text vectors) and its texts.</summary>
    public sealed record CatalogItem(string Sku, float[] Point, string Title, string? Description, string? Category);

    public sealed record CategoryCount(string? Category, int Items);

    public sealed record ClusterSummary(int Id, int Size, string[] Label, string[] Central, IReadOnlyList<CategoryCount> Categories, double Cohesion);

    public sealed record ClusteringState(string? Fingerprint, int Items, int Clusters, string? ChosenBy, double? Silhouette, DateTimeOffset? ComputedAt, double? TookMs);

    public sealed record ClusterMember(string Sku, string Title, string? Category, double Similarity);

    /// <summary>
    /// The live set's fingerprint, its items' clustering points and texts in SKU order, and the moment of the snapshot they
    /// were read from (changes after it count towards the next clustering).
    /// </summary>
    public async Task<(string? Fingerprint, List<CatalogItem> Items, DateTime ReadAt)> ReadCatalogAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT i.sku, i.embedding, i.text_embedding, i.title, i.description, i.category, i.fingerprint, now() AS read_at FROM items i
            WHERE i.fingerprint = (SELECT fingerprint FROM model_sets WHERE status = 'live') AND i.embedding IS NOT NULL
            ORDER BY i.sku
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var items = new List<CatalogItem>();
        string? fingerprint = null;
        var readAt = DateTime.UtcNow;
        while (await reader.ReadAsync(ct))
        {
            fingerprint = reader.GetString(reader.GetOrdinal("fingerprint"));
            readAt = reader.GetDateTime(reader.GetOrdinal("read_at"));
            string? Text(string column) => reader.IsDBNull(reader.GetOrdinal(column)) ? null : reader.GetString(reader.GetOrdinal(column));
            // Only the point is kept: at 100 000 items of the full set the two vectors would double what the clustering holds.
            var text = reader.GetOrdinal("text_embedding");
            var point = Clustering.PointOf(reader.GetFieldValue<Vector>(reader.GetOrdinal("embedding")).Memory.Span,
                reader.IsDBNull(text) ? default : reader.GetFieldValue<Vector>(text).Memory.Span);
            items.Add(new CatalogItem(reader.GetString(reader.GetOrdinal("sku")), point,
                reader.GetString(reader.GetOrdinal("title")), Text("description"), Text("category")));
        }
        return (fingerprint, items, readAt);
    }

    /// <summary>
    /// How far the catalog moved from the last clustering: items changed since its snapshot or not in it, clustered
    /// items gone, and the item count then; <c>Never</c> when there is none or it was of another model set.
    /// </summary>
    public async Task<(bool Never, long Changed, int Clustered)> ChangesAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            WITH s AS (SELECT * FROM insight_state), live AS (SELECT fingerprint FROM model_sets WHERE status = 'live')
            SELECT s.computed_at IS NULL OR s.fingerprint IS DISTINCT FROM (SELECT fingerprint FROM live) AS never, s.items,
                   -- An item stored by a transaction that began before the snapshot but committed after it has an older
                   -- updated_at: it counts as not clustered instead.
                   (SELECT count(*) FROM items i
                    WHERE i.updated_at > s.computed_at OR NOT EXISTS (SELECT 1 FROM insight_cluster_members m WHERE m.sku = i.sku))
                 + (SELECT count(*) FROM insight_cluster_members m WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.sku = m.sku)) AS changed
            FROM s
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetBoolean(reader.GetOrdinal("never")), reader.IsDBNull(reader.GetOrdinal("changed")) ? 0 : reader.GetInt64(reader.GetOrdinal("changed")),
            reader.GetInt32(reader.GetOrdinal("items")));
    }

    /// <summary>Replaces the clustering: clusters, members (by binary COPY) and the state row, in one transaction.</summary>
    public async Task WriteAsync(string fingerprint, DateTime readAt, IReadOnlyList<ClusterSummary> clusters, IReadOnlyList<(string Sku, int Cluster, double Similarity)> members,
        string chosenBy, double? silhouette, double tookMs, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var clear = new NpgsqlCommand("DELETE FROM insight_cluster_members; DELETE FROM insight_clusters", connection, tx))
            await clear.ExecuteNonQueryAsync(ct);
        await using (var writer = await connection.BeginBinaryImportAsync("COPY insight_clusters (id, size, label, central, categories, cohesion) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var c in clusters)
            {
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(c.Id, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(c.Size, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(c.Label, NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
                await writer.WriteAsync(c.Central, NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
                await writer.WriteAsync(JsonSerializer.Serialize(c.Categories, JsonSerializerOptions.Web), NpgsqlDbType.Jsonb, ct);
                await writer.WriteAsync(c.Cohesion, NpgsqlDbType.Double, ct);
            }
            await writer.CompleteAsync(ct);
        }
        await using (var writer = await connection.BeginBinaryImportAsync("COPY insight_cluster_members (sku, cluster_id, similarity) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var (sku, cluster, similarity) in members)
                await writer.WriteRowAsync(ct, sku, cluster, similarity);
            await writer.CompleteAsync(ct);
        }
        await using (var state = new NpgsqlCommand("""
            UPDATE insight_state SET fingerprint = @fingerprint, items = @items, clusters = @clusters, chosen_by = @chosen_by,
                silhouette = @silhouette, computed_at = @read_at, took_ms = @took_ms
            """, connection, tx))
        {
            state.Parameters.Add(new("fingerprint", fingerprint));
            state.Parameters.Add(new("items", members.Count));
            state.Parameters.Add(new("clusters", clusters.Count));
            state.Parameters.Add(new("chosen_by", chosenBy));
            state.Parameters.Add(new("silhouette", NpgsqlDbType.Double) { Value = (object?)silhouette ?? DBNull.Value });
            state.Parameters.Add(new("took_ms", tookMs));
            state.Parameters.Add(new("read_at", readAt));
            await state.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    public Task<(ClusteringState State, List<ClusterSummary> Clusters)> ReadAsync(CancellationToken ct) =>
        dataSource.ReadWithRetryAsync(async ct =>
        {
            await using var batch = new NpgsqlBatch
            {
                BatchCommands =
                {
                    new("SELECT fingerprint, items, clusters, chosen_by, silhouette, computed_at, took_ms FROM insight_state"),
                    new("SELECT id, size, label, central, categories::text AS categories, cohesion FROM insight_clusters ORDER BY size DESC, id"),
                },
            };
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            batch.Connection = connection;
            await using var reader = await batch.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            T? Nullable<T>(string column) => reader.IsDBNull(reader.GetOrdinal(column)) ? default : reader.GetFieldValue<T>(reader.GetOrdinal(column));
            var state = new ClusteringState(Nullable<string>("fingerprint"), reader.GetInt32(reader.GetOrdinal("items")), reader.GetInt32(reader.GetOrdinal("clusters")),
                Nullable<string>("chosen_by"), Nullable<double?>("silhouette"), Nullable<DateTimeOffset?>("computed_at"), Nullable<double?>("took_ms"));
            await reader.NextResultAsync(ct);
            var clusters = new List<ClusterSummary>();
            while (await reader.ReadAsync(ct))
                clusters.Add(ReadCluster(reader));
            return (state, clusters);
        }, ct);

    /// <summary>One cluster and a page of its members, nearest the centroid first; null when there is no such cluster.</summary>
    public Task<(ClusterSummary Cluster, List<ClusterMember> Members)?> ReadClusterAsync(int id, int after, int limit, CancellationToken ct) =>
        dataSource.ReadWithRetryAsync<(ClusterSummary, List<ClusterMember>)?>(async ct =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var batch = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new("SELECT id, size, label, central, categories::text AS categories, cohesion FROM insight_clusters WHERE id = $1") { Parameters = { new() { Value = id } } },
                    new("""
                        SELECT m.sku, i.title, i.category, m.similarity FROM insight_cluster_members m JOIN items i ON i.sku = m.sku
                        WHERE m.cluster_id = $1 ORDER BY m.similarity DESC, m.sku OFFSET $2 LIMIT $3
                        """) { Parameters = { new() { Value = id }, new() { Value = after }, new() { Value = limit } } },
                },
            };
            await using var reader = await batch.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
                return null;
            var cluster = ReadCluster(reader);
            await reader.NextResultAsync(ct);
            var members = new List<ClusterMember>();
            while (await reader.ReadAsync(ct))
            {
                members.Add(new ClusterMember(reader.GetString(reader.GetOrdinal("sku")), reader.GetString(reader.GetOrdinal("title")),
                    reader.IsDBNull(reader.GetOrdinal("category")) ? null : reader.GetString(reader.GetOrdinal("category")),
                    Math.Round(reader.GetDouble(reader.GetOrdinal("similarity")), 6)));
            }
            return (cluster, members);
        }, ct);

    static ClusterSummary ReadCluster(NpgsqlDataReader reader) =>
        new(reader.GetInt32(reader.GetOrdinal("id")), reader.GetInt32(reader.GetOrdinal("size")),
            reader.GetFieldValue<string[]>(reader.GetOrdinal("label")), reader.GetFieldValue<string[]>(reader.GetOrdinal("central")),
            JsonSerializer.Deserialize<List<CategoryCount>>(reader.GetString(reader.GetOrdinal("categories")), JsonSerializerOptions.Web) ?? [],
            Math.Round(reader.GetDouble(reader.GetOrdinal("cohesion")), 6));
}
