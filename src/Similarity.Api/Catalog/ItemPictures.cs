using Npgsql;
using NpgsqlTypes;
using Similarity.Database;
using Similarity.Encoders;

namespace Similarity.Catalog;

/// <summary>Which stored copy of an item's picture: the 256 px thumbnail or the 640 px normalised copy.</summary>
public enum PictureSize { Full, Thumb }

/// <summary>A stored picture as served: JPEG bytes and their strong ETag.</summary>
public sealed record PictureContent(byte[] Jpeg, string ETag);

/// <summary>The items' pictures (table <c>item_pictures</c>), kept beside — not in — the rows the vector queries read; served from the reads' data source.</summary>
public sealed class ItemPictures(NpgsqlDataSource dataSource, [FromKeyedServices(DatabaseExtensions.ReadsKey)] NpgsqlDataSource reads)
{
    /// <summary>Keeps <paramref name="picture"/> as the item's, made from the upload whose hash is <paramref name="imageSha256"/>.</summary>
    public async Task SaveAsync(string sku, byte[] imageSha256, NormalisedPicture picture, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO item_pictures (sku, image_sha256, etag, full_jpeg, thumb_jpeg) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (sku) DO UPDATE SET image_sha256 = EXCLUDED.image_sha256, etag = EXCLUDED.etag,
                full_jpeg = EXCLUDED.full_jpeg, thumb_jpeg = EXCLUDED.thumb_jpeg, updated_at = now()
            """);
        AddRow(command.Parameters, sku, imageSha256, picture);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Whether the item's stored picture was made from the upload whose hash this is.</summary>
    public async Task<bool> HasAsync(string sku, byte[] imageSha256, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM item_pictures WHERE sku = $1 AND image_sha256 = $2)");
        command.Parameters.Add(new() { Value = sku });
        command.Parameters.Add(new() { Value = imageSha256 });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task DeleteAsync(string sku, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM item_pictures WHERE sku = $1");
        command.Parameters.Add(new() { Value = sku });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The picture, read again on a broken pooled connection; null when the item has none.</summary>
    public Task<PictureContent?> GetAsync(string sku, PictureSize size, CancellationToken ct) => reads.ReadWithRetryAsync(async ct =>
    {
        await using var command = reads.CreateCommand(size == PictureSize.Thumb
            ? "SELECT thumb_jpeg, etag FROM item_pictures WHERE sku = $1"
            : "SELECT full_jpeg, etag FROM item_pictures WHERE sku = $1");
        command.Parameters.Add(new() { Value = sku });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new PictureContent(reader.GetFieldValue<byte[]>(0), $"\"{reader.GetString(1)}{(size == PictureSize.Thumb ? "-thumb" : "")}\"")
            : null;
    }, ct);

    /// <summary>
    /// An import batch's pictures, inside its transaction: each kept only where the item now stored holds the
    /// upload it was made from (a row refused or superseded leaves none), and dropped for items now stored
    /// without a picture.
    /// </summary>
    internal static async Task WriteBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<(string Sku, byte[]? ImageSha256, NormalisedPicture? Picture)> rows, CancellationToken ct)
    {
        var kept = rows.Where(r => r.Picture is not null).ToList();
        if (kept.Count > 0)
        {
            await using var save = new NpgsqlCommand("""
                INSERT INTO item_pictures (sku, image_sha256, etag, full_jpeg, thumb_jpeg)
                SELECT u.* FROM unnest($1::text[], $2::bytea[], $3::text[], $4::bytea[], $5::bytea[]) AS u(sku, image_sha256, etag, full_jpeg, thumb_jpeg)
                JOIN items ON items.sku = u.sku AND items.image_sha256 = u.image_sha256
                ORDER BY u.sku
                ON CONFLICT (sku) DO UPDATE SET image_sha256 = EXCLUDED.image_sha256, etag = EXCLUDED.etag,
                    full_jpeg = EXCLUDED.full_jpeg, thumb_jpeg = EXCLUDED.thumb_jpeg, updated_at = now()
                """, connection, transaction);
            save.Parameters.Add(new() { Value = kept.Select(r => r.Sku).ToArray() });
            save.Parameters.Add(new() { Value = kept.Select(r => r.ImageSha256!).ToArray() });
            save.Parameters.Add(new() { Value = kept.Select(r => r.Picture!.ETag).ToArray() });
            save.Parameters.Add(new() { Value = kept.Select(r => r.Picture!.Full).ToArray() });
            save.Parameters.Add(new() { Value = kept.Select(r => r.Picture!.Thumb).ToArray() });
            await save.ExecuteNonQueryAsync(ct);
        }
        var dropped = rows.Where(r => r.ImageSha256 is null).Select(r => r.Sku).ToArray();
        if (dropped.Length > 0)
        {
            await using var drop = new NpgsqlCommand("""
                DELETE FROM item_pictures USING items
                WHERE item_pictures.sku = ANY($1) AND items.sku = item_pictures.sku AND items.image_sha256 IS NULL
                """, connection, transaction);
            drop.Parameters.Add(new() { Value = dropped });
            await drop.ExecuteNonQueryAsync(ct);
        }
    }

    static void AddRow(NpgsqlParameterCollection parameters, string sku, byte[] imageSha256, NormalisedPicture picture)
    {
        parameters.Add(new() { Value = sku });
        parameters.Add(new() { Value = imageSha256 });
        parameters.Add(new() { Value = picture.ETag });
        parameters.Add(new() { Value = picture.Full, NpgsqlDbType = NpgsqlDbType.Bytea });
        parameters.Add(new() { Value = picture.Thumb, NpgsqlDbType = NpgsqlDbType.Bytea });
    }
}
