using Npgsql;

namespace Similarity.Models;

/// <summary><c>GET /models</c>: every set recorded, live first, with the standby set's progress counted from the items.</summary>
internal sealed class ModelSetListing(NpgsqlDataSource dataSource, ModelSets models, ModelSetStore store, EmbeddingRate rate)
{
    public async Task<IReadOnlyList<ModelSetInfo>> ListAsync(CancellationToken ct)
    {
        var rows = await store.ReadAsync(ct);
        var standby = models.Standby;
        (long Embedded, long Total) progress = (0, 0);
        if (standby is { } s)
        {
            await using var command = dataSource.CreateCommand($"SELECT count(*) FILTER (WHERE NOT {StandbyColumns.Stale}), count(*) FROM items");
            command.Parameters.AddWithValue("standby", s.Set.Fingerprint);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            progress = (reader.GetInt64(0), reader.GetInt64(1));
        }
        return [.. rows.OrderBy(r => r.Status switch { ModelStatus.Live => 0, ModelStatus.Retired => 2, _ => 1 }).ThenBy(r => r.Name, StringComparer.Ordinal).Select(r =>
        {
            var isStandby = standby is { } st && st.Set.Name == r.Name;
            var loaded = r.Status == ModelStatus.Live && models.IsLive(r.Name) ? models.Live : isStandby ? standby!.Set : null;
            return new ModelSetInfo(r.Name, r.Fingerprint, isStandby ? standby!.Status : r.Status, r.ImageDimension, r.TextDimension, r.FusedDimension,
                r.BundleBytes, loaded?.MemoryBytes, r.CreatedAt, r.ActivatedAt,
                isStandby ? new EmbeddingProgress(progress.Embedded, progress.Total, rate.Rate(r.Name), rate.EtaSeconds(r.Name, progress.Total - progress.Embedded)) : null);
        })];
    }
}

/// <summary>A model set as <c>GET /models</c> lists it. <c>memoryBytes</c>: how much the process grew by when it loaded the set (approximate; null when not loaded).</summary>
public sealed record ModelSetInfo(string Name, string Fingerprint, string Status, int ImageDimension, int TextDimension, int FusedDimension,
    long BundleBytes, long? MemoryBytes, DateTimeOffset CreatedAt, DateTimeOffset? ActivatedAt, EmbeddingProgress? Embedding);

/// <summary>The standby set's progress: items embedded from their current content, of all items; rate over the last minute, and the time left at it.</summary>
public sealed record EmbeddingProgress(long Embedded, long Total, double? ItemsPerSecond, double? EtaSeconds);
