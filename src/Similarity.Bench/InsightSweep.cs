using System.Globalization;
using System.Security.Cryptography;
using Npgsql;
using Similarity.Insight;

namespace Similarity.Bench;

/// <summary>
/// The duplicate gate's choice: every candidate pair of the neighbour lists (each item's first 20 neighbours, as
/// /duplicates reads them) with its fused, image and text cosines, its pictures' sketch match (the service's
/// <see cref="PictureSketch"/>) and two 64-bit perceptual hashes' distances (<see cref="PictureHash"/>, for comparison),
/// and pair-level precision and recall outside the boilerplate folders for a grid of thresholds; the pairs at fused
/// ≥ 0.95 go to <c>.data/bench-insight/sweep-pairs.csv</c>. Run on one planted seed to choose the defaults; the API's groups
/// on another seed report them (<c>bench insight --seed N --sweep</c>).
/// </summary>
public static class InsightSweep
{
    public static async Task AddAsync(BenchPlace place, string db, InsightPlant plant, Markdown table)
    {
        var pairs = new List<(string A, string B, double Fused, double Image, double Text)>();
        var thumbs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await using (var connection = new NpgsqlConnection(place.ConnectionString(db)))
        {
            await connection.OpenAsync();
            await using (var read = new NpgsqlCommand("SELECT sku, thumb_jpeg FROM item_pictures", connection))
            await using (var rows = await read.ExecuteReaderAsync())
                while (await rows.ReadAsync())
                    thumbs[rows.GetString(0)] = rows.GetFieldValue<byte[]>(1);
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
        // The service's sketches (and, for comparison, two 64-bit perceptual hashes) of each stored thumbnail.
        var sketch = thumbs.ToDictionary(t => t.Key, t => PictureSketch.Of(t.Value));
        var dhash = thumbs.ToDictionary(t => t.Key, t => PictureHash.Difference(t.Value));
        var phash = thumbs.ToDictionary(t => t.Key, t => PictureHash.Dct(t.Value));
        int Bits(Dictionary<string, long> hashes, string a, string b) =>
            hashes.TryGetValue(a, out var x) && hashes.TryGetValue(b, out var y) ? PictureHash.Distance(x, y) : 0;
        var match = outside.Where(p => p.Fused >= 0.95).AsParallel()
            .ToDictionary(p => Key(p.A, p.B), p => sketch.TryGetValue(p.A, out var x) && sketch.TryGetValue(p.B, out var y) ? PictureSketch.Match(x, y) : 1.0);
        double Match((string A, string B, double Fused, double Image, double Text) p) => match.GetValueOrDefault(Key(p.A, p.B), 1.0);
        var lines = outside.Where(p => p.Fused >= 0.95).Select(p => string.Create(CultureInfo.InvariantCulture,
            $"{p.A},{p.B},{p.Fused:F4},{p.Image:F4},{p.Text:F4},{Match(p):F4},{Bits(dhash, p.A, p.B)},{Bits(phash, p.A, p.B)},{(truth.Contains(Key(p.A, p.B)) ? "planted" : True(Key(p.A, p.B)) ? "identical" : "false")}"));
        await File.WriteAllLinesAsync(Path.Combine(place.Work("bench-insight"), "sweep-pairs.csv"), ["a,b,fused,image,text,sketch_match,dhash_bits,phash_bits,truth", .. lines]);
        void Add(string name, Func<(string A, string B, double Fused, double Image, double Text), bool> keep)
        {
            var kept = outside.Where(keep).Select(p => Key(p.A, p.B)).ToList();
            var precision = kept.Count == 0 ? double.NaN : kept.Count(True) / (double)kept.Count;
            var recall = kept.Count(truth.Contains) / (double)Math.Max(1, planted);
            table.Add("sweep: " + name, $"P {InsightPlant.F(precision)} R {InsightPlant.F(recall)}", $"{kept.Count} pairs outside boilerplate folders, {planted} planted there (pairs, not groups)");
        }
        foreach (var image in new[] { 0.0, 0.9, 0.94 })
        {
            Add(string.Create(CultureInfo.InvariantCulture, $"fused ≥ 0.95, image ≥ {image}"), p => p.Fused >= 0.95 && p.Image >= image);
            foreach (var least in new[] { 0.9, 0.93, 0.95, 0.96, 0.97, 0.98 })
                Add(string.Create(CultureInfo.InvariantCulture, $"fused ≥ 0.95, image ≥ {image}, sketch match ≥ {least}"),
                    p => p.Fused >= 0.95 && p.Image >= image && Match(p) >= least);
        }
        foreach (var image in new[] { 0.0, 0.94 })
        {
            foreach (var bits in new[] { 4, 8, 12, 16, 20 })
            {
                Add(string.Create(CultureInfo.InvariantCulture, $"fused ≥ 0.95, image ≥ {image}, dHash ≤ {bits} bits"),
                    p => p.Fused >= 0.95 && p.Image >= image && Bits(dhash, p.A, p.B) <= bits);
                Add(string.Create(CultureInfo.InvariantCulture, $"fused ≥ 0.95, image ≥ {image}, pHash ≤ {bits} bits"),
                    p => p.Fused >= 0.95 && p.Image >= image && Bits(phash, p.A, p.B) <= bits);
            }
        }
    }

    static (string A, string B) Key(string a, string b) => string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
}
