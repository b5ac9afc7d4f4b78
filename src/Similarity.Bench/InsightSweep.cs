using System.Globalization;
using System.Security.Cryptography;
using Npgsql;

namespace Similarity.Bench;

/// <summary>
/// The duplicate gate's choice: every candidate pair of the neighbour lists (each item's first 20 neighbours, as
/// /duplicates reads them) with its fused, image and text cosines, and pair-level precision and recall outside the
/// boilerplate folders for a grid of thresholds. Run on one planted seed to choose the defaults; the API's groups
/// on another seed report them (<c>bench insight --seed N --sweep</c>).
/// </summary>
public static class InsightSweep
{
    public static async Task AddAsync(BenchPlace place, string db, InsightPlant plant, Markdown table)
    {
        var pairs = new List<(string A, string B, double Fused, double Image, double Text)>();
        await using (var connection = new NpgsqlConnection(place.ConnectionString(db)))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                WITH c AS (
                    SELECT DISTINCT least(l.sku, n.other) AS a, greatest(l.sku, n.other) AS b
                    FROM similar_lists l CROSS JOIN LATERAL unnest(l.neighbours[1:20]) AS n(other))
                SELECT c.a, c.b, 1 - (x.embedding <=> y.embedding) AS fused,
                       coalesce(1 - (x.image_embedding <=> y.image_embedding), 1) AS image, 1 - (x.text_embedding <=> y.text_embedding) AS text
                FROM c JOIN items x ON x.sku = c.a JOIN items y ON y.sku = c.b
                WHERE 1 - (x.embedding <=> y.embedding) >= 0.85
                """, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                pairs.Add((reader.GetString(0), reader.GetString(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetDouble(4)));
        }
        var boilerplate = plant.Drawings.Where(d => d.Boilerplate).Select(d => d.Sku).ToHashSet();
        var of = plant.Duplicates.ToDictionary(d => d.Sku, d => d.Of);
        string Base(string sku) => of.GetValueOrDefault(sku, sku);
        var picture = plant.Drawings.ToDictionary(d => d.Sku, d => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(BenchPlace.Clipart, d.Path + ".png")))));
        var truth = plant.Duplicates.Select(d => Key(d.Of, d.Sku)).ToHashSet();
        bool True((string A, string B) p) => truth.Contains(p)
            || (picture[Base(p.A)] == picture[Base(p.B)] && !plant.Swapped.Contains(Base(p.A)) && !plant.Swapped.Contains(Base(p.B)));
        var outside = pairs.Where(p => !boilerplate.Contains(Base(p.A)) && !boilerplate.Contains(Base(p.B))).ToList();
        var planted = truth.Count(t => !boilerplate.Contains(t.A));
        foreach (var fused in new[] { 0.9, 0.95, 0.97 })
            foreach (var text in new[] { 0.0, 0.99 })
                foreach (var image in new[] { 0.0, 0.9, 0.92, 0.93, 0.94, 0.95 })
                {
                    var kept = outside.Where(p => p.Fused >= fused && p.Text >= text && p.Image >= image).Select(p => Key(p.A, p.B)).ToList();
                    var precision = kept.Count == 0 ? double.NaN : kept.Count(True) / (double)kept.Count;
                    var recall = kept.Count(truth.Contains) / (double)Math.Max(1, planted);
                    table.Add(string.Create(CultureInfo.InvariantCulture, $"sweep: fused ≥ {fused}, text ≥ {text}, image ≥ {image}"),
                        $"P {InsightPlant.F(precision)} R {InsightPlant.F(recall)}", $"{kept.Count} pairs outside boilerplate folders, {planted} planted there (pairs, not groups)");
                }
    }

    static (string A, string B) Key(string a, string b) => string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
}
