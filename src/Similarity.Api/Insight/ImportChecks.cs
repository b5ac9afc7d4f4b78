using System.Diagnostics;
using Microsoft.Extensions.Options;
using NetVips;
using Npgsql;
using NpgsqlTypes;
using Similarity.Models;

namespace Similarity.Insight;

/// <summary>
/// The catalog checks an import job runs: after each written batch the job records the SKUs it stored (and the size
/// of each picture it received); at its end <see cref="RunAsync"/> checks them all against the catalog as it then
/// is, replacing what an earlier run of the same job found. The checks read; they never change an item.
/// </summary>
public sealed partial class ImportChecks(NpgsqlDataSource dataSource, Mismatches mismatches, PictureSketches sketches, CatalogIndex index, IOptions<InsightOptions> options,
    ILogger<ImportChecks> logger)
{
    /// <summary>One stored item of a batch and the picture bytes the job received for it (null when none).</summary>
    public sealed record StoredItem(string Sku, byte[]? Picture);

    public async Task RecordBatchAsync(Guid jobId, IEnumerable<StoredItem> items, CancellationToken ct)
    {
        if (!options.Value.ImportChecks)
            return;
        var rows = items.Select(i => (i.Sku, Size: i.Picture is { } bytes ? SizeOf(bytes) : null)).ToList();
        if (rows.Count == 0)
            return;
        await using var command = dataSource.CreateCommand("""
            INSERT INTO import_check_items (job_id, sku, picture_width, picture_height)
            SELECT $1, sku, width, height FROM unnest($2::text[], $3::integer[], $4::integer[]) AS r(sku, width, height)
            ON CONFLICT (job_id, sku) DO UPDATE SET picture_width = EXCLUDED.picture_width, picture_height = EXCLUDED.picture_height
            """);
        command.Parameters.Add(new() { Value = jobId });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Sku).ToArray() });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Size?.Width).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        command.Parameters.Add(new() { Value = rows.Select(r => r.Size?.Height).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A picture's size from its header alone; null when libvips cannot read it (the encoder already said why).</summary>
    static (int Width, int Height)? SizeOf(byte[] bytes)
    {
        try
        {
            using var header = Image.NewFromBuffer(bytes, access: Enums.Access.Sequential);
            return (header.Width, header.Height);
        }
        catch (VipsException)
        {
            return null;
        }
    }

    /// <summary>Checks every item the job recorded; returns how many checks it found.</summary>
    public async Task<int> RunAsync(Guid jobId, CancellationToken ct)
    {
        var o = options.Value;
        if (!o.ImportChecks)
            return 0;
        var clock = Stopwatch.StartNew();
        string[] skus;
        await using (var read = dataSource.CreateCommand("SELECT array_agg(sku ORDER BY sku) FROM import_check_items WHERE job_id = $1"))
        {
            read.Parameters.Add(new() { Value = jobId });
            skus = await read.ExecuteScalarAsync(ct) as string[] ?? [];
        }
        var sketching = Stopwatch.StartNew();
        var gate = DuplicateGate.From(o);
        if (gate.NeedsSketches && skus.Length > 0)
            await sketches.RefreshAsync(skus, ct);
        var sketchMs = sketching.Elapsed.TotalMilliseconds;
        var duplicates = skus.Length == 0 ? [] : await DuplicatesAsync(jobId, o.DuplicateMinScore, gate, ct);
        var mismatched = skus.Length == 0 ? new Mismatches.MismatchPage(0, [])
            : await mismatches.FindAsync(skus, o.MismatchMargin, 0, skus.Length, o.MinCategoryItems, ct);

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using var batch = new NpgsqlBatch(connection, tx);
        batch.BatchCommands.Add(new("DELETE FROM import_checks WHERE job_id = @job") { Parameters = { new("job", jobId) } });
        batch.BatchCommands.Add(Checks(jobId, o));
        batch.BatchCommands.Add(new("""
            INSERT INTO import_checks (job_id, kind, sku, detail, related, score)
            SELECT @job, 'duplicate', sku, format('Near-identical (%s) to %s.', round(max(score)::numeric, 3), array_to_string(array_agg(other ORDER BY score DESC, other), ', ')),
                   array_agg(other ORDER BY score DESC, other), max(score)
            FROM unnest(@skus::text[], @others::text[], @scores::float8[]) AS d(sku, other, score) GROUP BY sku
            """)
        {
            Parameters =
            {
                new("job", jobId),
                new("skus", duplicates.Select(d => d.Sku).ToArray()),
                new("others", duplicates.Select(d => d.OtherSku).ToArray()),
                new("scores", duplicates.Select(d => d.Score).ToArray()),
            },
        });
        // SKUs hold no spaces (Sku.Rule), so each item's resemblances travel as one space-separated string.
        batch.BatchCommands.Add(new("""
            INSERT INTO import_checks (job_id, kind, sku, detail, related, score)
            SELECT @job, 'mismatch', m.sku, m.detail, string_to_array(m.related, ' '), m.score
            FROM unnest(@skus::text[], @details::text[], @scores::float8[], @related::text[]) AS m(sku, detail, score, related)
            """)
        {
            Parameters =
            {
                new("job", jobId),
                new("skus", mismatched.Items.Select(m => m.Sku).ToArray()),
                new("details", mismatched.Items.Select(m =>
                    $"Its picture agrees with its text {m.Agreement:F2} against {m.Typical:F2} typical of its category; it looks like {string.Join(", ", m.ResemblesInstead.Select(r => r.Sku))}.").ToArray()),
                new("scores", mismatched.Items.Select(m => m.Score).ToArray()),
                new("related", mismatched.Items.Select(m => string.Join(' ', m.ResemblesInstead.Select(r => r.Sku))).ToArray()),
            },
        });
        await batch.ExecuteNonQueryAsync(ct);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM import_checks WHERE job_id = $1", connection, tx) { Parameters = { new() { Value = jobId } } };
        var found = (long)(await count.ExecuteScalarAsync(ct))!;
        await tx.CommitAsync(ct);
        LogChecked(jobId, (int)found, skus.Length, clock.Elapsed.TotalMilliseconds, sketchMs);
        return (int)found;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Import {JobId}: {Found} catalog checks over {Items} items in {Milliseconds:F0} ms (sketching their pictures: {SketchMilliseconds:F0} ms)")]
    partial void LogChecked(Guid jobId, int found, int items, double milliseconds, double sketchMilliseconds);

    /// <summary>The checks that read the job's items' own fields and the catalog's counts: no picture, small picture, boilerplate, repeated title.</summary>
    static NpgsqlBatchCommand Checks(Guid jobId, InsightOptions o) => new("""
        WITH job AS (
            SELECT i.sku, i.title, i.description, i.image_sha256, j.picture_width, j.picture_height
            FROM import_check_items j JOIN items i ON i.sku = j.sku WHERE j.job_id = @job),
        descriptions AS (
            SELECT description, count(*) AS items FROM items WHERE description IN (SELECT description FROM job) GROUP BY description),
        titles AS (
            SELECT lower(title) AS title, count(*) AS items FROM items WHERE lower(title) IN (SELECT lower(title) FROM job) GROUP BY lower(title)),
        found AS (
            SELECT sku, 'noPicture' AS kind, 'The item has no picture.' AS detail, NULL::float8 AS score FROM job WHERE image_sha256 IS NULL
            UNION ALL
            SELECT sku, 'smallPicture', format('Its picture is %s × %s pixels; under %s on its shorter side it says little.', picture_width, picture_height, @min_side::integer), NULL
            FROM job WHERE least(picture_width, picture_height) < @min_side
            UNION ALL
            SELECT j.sku, 'boilerplateDescription',
                   CASE WHEN btrim(coalesce(j.description, '')) = '' THEN 'The item has no description.'
                        ELSE format('Its description is word for word that of %s items.', d.items) END, d.items
            FROM job j LEFT JOIN descriptions d ON d.description = j.description
            WHERE btrim(coalesce(j.description, '')) = '' OR d.items >= @shared
            UNION ALL
            SELECT j.sku, 'repeatedTitle', format('%s SKUs carry the title "%s".', t.items, j.title), t.items
            FROM job j JOIN titles t ON t.title = lower(j.title) WHERE t.items >= @shared)
        INSERT INTO import_checks (job_id, kind, sku, detail, score) SELECT @job, kind, sku, detail, score FROM found
        """)
    {
        Parameters = { new("job", jobId), new("min_side", o.MinPictureSide), new("shared", o.SharedTextItems) },
    };

    /// <summary>
    /// Each job item's nearest items by fused vector (the index, exact cosine re-ranked) at or over <paramref name="minScore"/>
    /// that pass <paramref name="gate"/>, as /duplicates by fused: where both items have a picture, the pictures must be
    /// near-identical too (the job's items sketched before).
    /// </summary>
    async Task<List<DuplicateGrouping.Pair>> DuplicatesAsync(Guid jobId, double minScore, DuplicateGate gate, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH job AS (
                SELECT i.sku, i.embedding, i.image_embedding FROM import_check_items j JOIN items i ON i.sku = j.sku
                WHERE j.job_id = @job AND i.fingerprint = (SELECT fingerprint FROM model_sets WHERE status = 'live') AND {index.Predicate.Replace("embedding", "i.embedding", StringComparison.Ordinal)})
            SELECT j.sku, c.sku AS other_sku, c.score FROM job j CROSS JOIN LATERAL (
                SELECT sku, 1 - (embedding <=> j.embedding) AS score, 1 - (image_embedding <=> j.image_embedding) AS image_score FROM items
                WHERE sku <> j.sku AND {index.Predicate}
                ORDER BY {index.Expression} <=> j.embedding::halfvec({index.Dimension}) LIMIT 10) c
            WHERE c.score >= @min_score AND (@min_image <= 0 OR c.image_score IS NULL OR c.image_score >= @min_image)
            """);
        command.Parameters.Add(new("job", jobId));
        command.Parameters.Add(new("min_score", minScore));
        command.Parameters.Add(new("min_image", gate.MinImageScore));
        var pairs = new List<DuplicateGrouping.Pair>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            var (sku, other, score) = (reader.GetOrdinal("sku"), reader.GetOrdinal("other_sku"), reader.GetOrdinal("score"));
            while (await reader.ReadAsync(ct))
                pairs.Add(new(reader.GetString(sku), reader.GetString(other), reader.GetDouble(score)));
        }
        if (!gate.NeedsSketches || pairs.Count == 0)
            return pairs;
        var read = await sketches.ReadAsync([.. pairs.SelectMany(p => new[] { p.Sku, p.OtherSku }).Distinct()], ct);
        return gate.Keep(pairs, p => (p.Sku, p.OtherSku), read);
    }
}
