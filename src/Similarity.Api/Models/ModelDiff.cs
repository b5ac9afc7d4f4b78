using Npgsql;

namespace Similarity.Models;

/// <summary>
/// What switching sets would change (<c>GET /models/{name}/diff</c>): for sampled items, the exact top-K by fused cosine
/// under the live set and under the standby set, compared. Exact scans, not the index, so the figures are the sets'
/// own and not the index's recall; that costs two scans of the catalog per sampled item.
/// </summary>
public sealed class ModelDiff(NpgsqlDataSource dataSource)
{
    public const int K = 10, MostChangedShown = 10;

    public sealed record Neighbour(string Sku, double Score);

    /// <summary>
    /// One sampled item: <c>overlap</c> = shared neighbours / K; <c>rankCorrelation</c> = Spearman's ρ over the union
    /// of both lists, an item absent from a list ranked K + 1 there; <c>top1Changed</c>: the first neighbour differs.
    /// </summary>
    public sealed record ItemDiff(string Sku, double Overlap, double RankCorrelation, bool Top1Changed);

    public sealed record ChangedItem(string Sku, double Overlap, double RankCorrelation, IReadOnlyList<Neighbour> Live, IReadOnlyList<Neighbour> Candidate);

    public sealed record Report(string Live, string Candidate, int K, int Sample, double MeanOverlap, double MeanRankCorrelation, double Top1ChangedShare,
        IReadOnlyList<ItemDiff> Items, IReadOnlyList<ChangedItem> MostChanged);

    public async Task<Report> CompareAsync(ModelSet live, ModelSet candidate, int sample, CancellationToken ct)
    {
        var skus = new List<string>();
        await using (var command = dataSource.CreateCommand(
            "SELECT sku FROM items WHERE fingerprint = $1 AND standby_fingerprint = $2 ORDER BY random() LIMIT $3"))
        {
            command.Parameters.Add(new() { Value = live.Fingerprint });
            command.Parameters.Add(new() { Value = candidate.Fingerprint });
            command.Parameters.Add(new() { Value = sample });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                skus.Add(reader.GetString(0));
        }
        var compared = new List<(ItemDiff Diff, List<Neighbour> Live, List<Neighbour> Candidate)>();
        foreach (var sku in skus)
        {
            var before = await NeighboursAsync(sku, "", live.Fingerprint, ct);
            var after = await NeighboursAsync(sku, "standby_", candidate.Fingerprint, ct);
            compared.Add((Compare(sku, [.. before.Select(n => n.Sku)], [.. after.Select(n => n.Sku)]), before, after));
        }
        var items = compared.Select(c => c.Diff).ToList();
        var mostChanged = compared.OrderBy(c => c.Diff.Overlap).ThenBy(c => c.Diff.RankCorrelation).ThenBy(c => c.Diff.Sku, StringComparer.Ordinal)
            .Take(MostChangedShown).Select(c => new ChangedItem(c.Diff.Sku, c.Diff.Overlap, c.Diff.RankCorrelation, c.Live, c.Candidate)).ToList();
        return new Report(live.Name, candidate.Name, K, items.Count,
            items.Count == 0 ? 0 : items.Average(i => i.Overlap),
            items.Count == 0 ? 0 : items.Average(i => i.RankCorrelation),
            items.Count == 0 ? 0 : items.Count(i => i.Top1Changed) / (double)items.Count,
            items, mostChanged);
    }

    /// <summary>The exact top-K of one group of columns (<paramref name="prefix"/> "" for the live set, "standby_" for the other).</summary>
    async Task<List<Neighbour>> NeighboursAsync(string sku, string prefix, string fingerprint, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH q AS (SELECT {prefix}embedding AS e FROM items WHERE sku = $1)
            SELECT sku, 1 - ({prefix}embedding <=> (SELECT e FROM q)) AS score FROM items
            WHERE {prefix}fingerprint = $2 AND sku <> $1
            ORDER BY {prefix}embedding <=> (SELECT e FROM q), sku LIMIT {K}
            """);
        command.Parameters.Add(new() { Value = sku });
        command.Parameters.Add(new() { Value = fingerprint });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var neighbours = new List<Neighbour>();
        while (await reader.ReadAsync(ct))
            neighbours.Add(new Neighbour(reader.GetString(0), reader.GetDouble(1)));
        return neighbours;
    }

    /// <summary>The figures of one item from its two neighbour lists, best first.</summary>
    public static ItemDiff Compare(string sku, IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        var shared = before.Intersect(after, StringComparer.Ordinal).Count();
        var union = before.Union(after, StringComparer.Ordinal).ToList();
        int RankIn(IReadOnlyList<string> list, string item) => list.IndexOf(item) is var i and >= 0 ? i + 1 : K + 1;
        var n = union.Count;
        var rho = n < 2 ? 1.0 : 1 - 6.0 * union.Sum(s => Math.Pow(RankIn(before, s) - RankIn(after, s), 2)) / (n * ((double)n * n - 1));
        var top1Changed = before.Count > 0 && after.Count > 0 ? before[0] != after[0] : before.Count != after.Count;
        return new ItemDiff(sku, shared / (double)K, rho, top1Changed);
    }
}

file static class ListExtensions
{
    public static int IndexOf(this IReadOnlyList<string> list, string item)
    {
        for (var i = 0; i < list.Count; i++)
            if (list[i] == item)
                return i;
        return -1;
    }
}
