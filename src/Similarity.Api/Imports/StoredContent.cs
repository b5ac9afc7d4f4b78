using Npgsql;
using Similarity.Catalog;
using Similarity.Imports.Pictures;

namespace Similarity.Imports;

/// <summary>What is stored for a SKU: what its vectors were made from, its picture URL, and what that URL answered last time.</summary>
sealed record StoredContent(EmbeddedContent Content, string? ImageUrl, PictureSource? Source)
{
    /// <summary>
    /// What is stored for these SKUs, with the last answer of each of <paramref name="urls"/> that is still an item's
    /// picture URL: what decides whether a row is embedded again and whether its picture is asked for conditionally.
    /// </summary>
    public static async Task<Dictionary<string, StoredContent>> ReadAsync(NpgsqlDataSource dataSource, string[] skus, string[] urls, CancellationToken ct)
    {
        var found = new Dictionary<string, StoredContent>(StringComparer.Ordinal);
        if (skus.Length == 0)
            return found;
        await using var command = dataSource.CreateCommand("""
            SELECT i.sku, i.text_sha256, i.image_sha256, i.fingerprint, i.image_url, p.etag, p.last_modified, p.sha256
            FROM items i LEFT JOIN picture_sources p ON p.url = i.image_url AND p.url = ANY($2)
            WHERE i.sku = ANY($1)
            """);
        command.Parameters.Add(new() { Value = skus });
        command.Parameters.Add(new() { Value = urls });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var url = reader.IsDBNull(4) ? null : reader.GetString(4);
            var source = reader.IsDBNull(7) ? null : new PictureSource(url!,
                new PictureValidators(reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6)),
                reader.GetFieldValue<byte[]>(7));
            var content = new EmbeddedContent(reader.GetFieldValue<byte[]>(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2), reader.GetString(3));
            found[reader.GetString(0)] = new StoredContent(content, url, source);
        }
        return found;
    }
}
