using NetVips;
using Npgsql;
using NpgsqlTypes;

namespace Similarity.Insight;

/// <summary>
/// Keeps table <c>picture_sketches</c> current — each item's <see cref="PictureSketch"/> of its stored thumbnail, made
/// again when the item's picture changed (its <c>image_sha256</c> is no longer the row's), gone with the item — and
/// reads them. It sketches lazily, where a reader needs them: an import job's items at the job's end, every other item
/// when the duplicate groups are read or the clustering duty looks. A thumbnail libvips cannot read keeps no row; the
/// readers then judge its pairs by the vectors alone.
/// </summary>
public sealed partial class PictureSketches(NpgsqlDataSource dataSource, ILogger<PictureSketches> logger)
{
    const int Batch = 256;

    /// <summary>Sketches the stale or missing pictures of <paramref name="skus"/> (all items when null); returns how many it wrote.</summary>
    public async Task<int> RefreshAsync(string[]? skus, CancellationToken ct)
    {
        var written = 0;
        var unreadable = new List<string>();
        while (true)
        {
            var stale = await StaleAsync(skus, unreadable, ct);
            if (stale.Count == 0)
                return written;
            var sketched = new byte[]?[stale.Count];
            Parallel.For(0, stale.Count, new ParallelOptions { CancellationToken = ct }, i => sketched[i] = TrySketch(stale[i].Thumb));
            var good = new List<int>();
            for (var i = 0; i < stale.Count; i++)
            {
                if (sketched[i] is null)
                {
                    unreadable.Add(stale[i].Sku);
                    LogUnreadable(stale[i].Sku);
                }
                else
                    good.Add(i);
            }
            written += await WriteAsync([.. good.Select(i => stale[i].Sku)], [.. good.Select(i => stale[i].Sha256)], [.. good.Select(i => sketched[i]!)], ct);
            if (stale.Count < Batch)
                return written;
        }
    }

    /// <summary>The current sketches of <paramref name="skus"/>, by SKU; an item without one is absent.</summary>
    public async Task<Dictionary<string, byte[]>> ReadAsync(IReadOnlyCollection<string> skus, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT s.sku, s.grey FROM picture_sketches s JOIN items i ON i.sku = s.sku AND i.image_sha256 = s.image_sha256
            WHERE s.sku = ANY($1)
            """);
        command.Parameters.Add(new() { Value = skus.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var sketches = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
            sketches[reader.GetString(reader.GetOrdinal("sku"))] = reader.GetFieldValue<byte[]>(reader.GetOrdinal("grey"));
        return sketches;
    }

    static byte[]? TrySketch(byte[] thumb)
    {
        try
        {
            return PictureSketch.Of(thumb);
        }
        catch (VipsException)
        {
            return null;
        }
    }

    async Task<List<(string Sku, byte[] Sha256, byte[] Thumb)>> StaleAsync(string[]? skus, List<string> unreadable, CancellationToken ct)
    {
        // Only a thumbnail of the item's current picture: one of an older picture waits for its own rewrite.
        await using var command = dataSource.CreateCommand($"""
            SELECT p.sku, p.image_sha256, p.thumb_jpeg
            FROM item_pictures p JOIN items i ON i.sku = p.sku AND i.image_sha256 = p.image_sha256
            LEFT JOIN picture_sketches s ON s.sku = p.sku
            WHERE (s.sku IS NULL OR s.image_sha256 <> p.image_sha256) AND ($1::text[] IS NULL OR p.sku = ANY($1)) AND NOT (p.sku = ANY($2))
            ORDER BY p.sku LIMIT {Batch}
            """);
        command.Parameters.Add(new() { Value = (object?)skus ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = unreadable.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var stale = new List<(string, byte[], byte[])>();
        while (await reader.ReadAsync(ct))
            stale.Add((reader.GetString(reader.GetOrdinal("sku")), reader.GetFieldValue<byte[]>(reader.GetOrdinal("image_sha256")),
                reader.GetFieldValue<byte[]>(reader.GetOrdinal("thumb_jpeg"))));
        return stale;
    }

    async Task<int> WriteAsync(string[] skus, byte[][] sha256s, byte[][] greys, CancellationToken ct)
    {
        if (skus.Length == 0)
            return 0;
        // An item deleted (or given another picture) since it was read is skipped: the join keeps only current pictures.
        await using var command = dataSource.CreateCommand("""
            INSERT INTO picture_sketches (sku, image_sha256, grey)
            SELECT u.sku, u.sha, u.grey FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS u(sku, sha, grey)
            JOIN items i ON i.sku = u.sku AND i.image_sha256 = u.sha
            ON CONFLICT (sku) DO UPDATE SET image_sha256 = EXCLUDED.image_sha256, grey = EXCLUDED.grey
            """);
        command.Parameters.Add(new() { Value = skus });
        command.Parameters.Add(new() { Value = sha256s });
        command.Parameters.Add(new() { Value = greys });
        return await command.ExecuteNonQueryAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The thumbnail of {Sku} could not be read for its sketch; its duplicates are judged by vectors alone")]
    partial void LogUnreadable(string sku);
}
