using System.Globalization;
using Npgsql;
using Pgvector;
using Similarity.Insight;

namespace Similarity.Bench;

/// <summary>
/// What the clustering's choices rest on (<c>bench insight --seed N --cluster-sweep</c>): every item's fused and text
/// vectors read from the bench's database, clustered as the service does (<see cref="Clustering.PointOf"/>, spherical
/// k-means from <see cref="Clustering.Seed"/>, k by silhouette) at text shares from 0 (the fused vector alone) to 1
/// (the text vector alone), at fixed k, and from other k-means++ seeds with their objective (would keeping the best
/// of several restarts agree better with the folders?). NMI against the folders on the drawings of the split, beside
/// the TF-IDF baseline at the same k. Run on one plant seed to choose; the others report.
/// </summary>
public static class InsightClusterSweep
{
    public static async Task AddAsync(BenchPlace place, string db, InsightPlant plant, Markdown table)
    {
        var items = new List<(string Sku, float[] Fused, float[] Text)>();
        var builder = new NpgsqlDataSourceBuilder(place.ConnectionString(db));
        builder.UseVector();
        await using (var dataSource = builder.Build())
        await using (var command = dataSource.CreateCommand("SELECT sku, embedding, text_embedding FROM items ORDER BY sku"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                items.Add((reader.GetString(0), reader.GetFieldValue<Vector>(1).ToArray(), reader.GetFieldValue<Vector>(2).ToArray()));
        }
        var position = items.Select((item, i) => (item.Sku, i)).ToDictionary(p => p.Sku, p => p.i, StringComparer.Ordinal);
        var originals = plant.Drawings.Select(d => position[d.Sku]).ToArray();
        var truth = plant.Drawings.Select(d => d.Category).ToList();
        var texts = plant.Drawings.Select(d => d.Title + " " + d.Description).ToList();
        double Nmi(int[] assignment) => InsightMeasures.Nmi(truth, [.. originals.Select(i => assignment[i])]);
        var baseline = new Dictionary<int, double>();
        double Baseline(int k) => baseline.TryGetValue(k, out var nmi) ? nmi : baseline[k] = InsightMeasures.Nmi(truth, InsightMeasures.TfIdfClusters(texts, k, seed: 1));
        List<float[]> Points(double share) => [.. items.Select(i => Clustering.PointOf(i.Fused, i.Text, share))];
        string S(double share) => share.ToString("0.##", CultureInfo.InvariantCulture);

        foreach (var share in new[] { 0, 0.25, 0.5, 0.75, 1 })
        {
            var chosen = SphericalKMeans.Choose(Points(share), SphericalKMeans.Candidates(items.Count), Clustering.Seed);
            table.Add($"cluster sweep: text share {S(share)}, k by silhouette", InsightPlant.F(Nmi(chosen.Result.Assignment)),
                $"k = {chosen.K} (silhouette {InsightPlant.F(chosen.Silhouette)}); TF-IDF at that k {InsightPlant.F(Baseline(chosen.K))}");
        }
        foreach (var share in new[] { 0, Clustering.TextShare })
        {
            var points = Points(share);
            var byK = new[] { 21, 42, 84 }.Select(k => $"k {k}: {InsightPlant.F(Nmi(SphericalKMeans.Run(points, k, Clustering.Seed).Assignment))} (TF-IDF {InsightPlant.F(Baseline(k))})");
            table.Add($"cluster sweep: text share {S(share)}, fixed k", "", string.Join("; ", byK));
            var bySeed = Enumerable.Range(0, 5).Select(s => SphericalKMeans.Run(points, 42, Clustering.Seed + s))
                .Select((r, s) => $"+{s}: {r.Similarity.Average().ToString("F4", CultureInfo.InvariantCulture)} → {InsightPlant.F(Nmi(r.Assignment))}");
            table.Add($"cluster sweep: text share {S(share)}, k 42, k-means++ seeds", "", "seed: mean cosine to centroid → NMI; " + string.Join("; ", bySeed));
        }
    }
}
