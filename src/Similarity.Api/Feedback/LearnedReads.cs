using Npgsql;
using Similarity.Database;

namespace Similarity.Feedback;

/// <summary>An item most co-engaged with another: what a product page shows of it, its co-engagement score and how many visitors it rests on.</summary>
public sealed record CoEngagedItem(string Sku, string Title, string? ImageUrl, double Score, int Visitors);

/// <summary>The position propensities as last estimated (<see cref="EstimatedAt"/> null before the first estimate).</summary>
public sealed record Propensities(DateTimeOffset? EstimatedAt, IReadOnlyList<PositionPropensity> Positions);

/// <summary>Reads of what the rebuild learned, on the read data source (a standby may answer: the tables lag by a rebuild anyway).</summary>
public sealed class LearnedReads([FromKeyedServices(DatabaseExtensions.ReadsKey)] NpgsqlDataSource dataSource)
{
    /// <summary>The item's most co-engaged items, best first; null when no item has <paramref name="sku"/>.</summary>
    public Task<IReadOnlyList<CoEngagedItem>?> CoEngagedAsync(string sku, int k, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT EXISTS (SELECT 1 FROM items WHERE sku = @sku) AS found") { Parameters = { new("sku", sku) } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            SELECT i.sku, i.title, i.image_url, c.score, c.visitors
            FROM co_engagement c JOIN items i ON i.sku = c.other_sku
            WHERE c.sku = @sku
            ORDER BY c.score DESC, c.other_sku
            LIMIT @k
            """) { Parameters = { new("sku", sku), new("k", k) } });
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        if (!reader.GetBoolean(reader.GetOrdinal("found")))
            return null;
        await reader.NextResultAsync(ct);
        var items = new List<CoEngagedItem>();
        while (await reader.ReadAsync(ct))
        {
            var imageUrl = reader.GetOrdinal("image_url");
            items.Add(new CoEngagedItem(reader.GetString(reader.GetOrdinal("sku")), reader.GetString(reader.GetOrdinal("title")),
                reader.IsDBNull(imageUrl) ? null : reader.GetString(imageUrl), reader.GetFloat(reader.GetOrdinal("score")),
                reader.GetInt32(reader.GetOrdinal("visitors"))));
        }
        return (IReadOnlyList<CoEngagedItem>?)items;
    }, ct);

    public Task<Propensities> PropensitiesAsync(CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var command = dataSource.CreateCommand("SELECT position, propensity, clicks, estimated_at FROM position_propensities ORDER BY position");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var positions = new List<PositionPropensity>();
        DateTimeOffset? estimatedAt = null;
        while (await reader.ReadAsync(ct))
        {
            positions.Add(new PositionPropensity(reader.GetInt16(reader.GetOrdinal("position")), reader.GetFloat(reader.GetOrdinal("propensity")),
                reader.GetInt32(reader.GetOrdinal("clicks"))));
            estimatedAt = reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("estimated_at"));
        }
        return new Propensities(estimatedAt, positions);
    }, ct);
}
