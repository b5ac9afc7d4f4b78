namespace Similarity.Insight;

/// <summary>
/// Near-identical pairs → groups: the connected components of the pairs over the threshold, joined strongest pair
/// first, where a join that would make a group larger than the cap is skipped. So a chain a–b–c–… of near-duplicates
/// stops at the cap, and what is left of it starts groups of its own. Pure: same pairs, same groups.
/// </summary>
public static class DuplicateGrouping
{
    public sealed record Pair(string Sku, string OtherSku, double Score);

    /// <summary>Groups of at least two members, strongest first (by their best pair, then their first SKU); members in SKU order.</summary>
    public static List<List<string>> Group(IEnumerable<Pair> pairs, int maxGroupSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroupSize, 2);
        var parent = new Dictionary<string, string>(StringComparer.Ordinal);
        var members = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var best = new Dictionary<string, double>(StringComparer.Ordinal);
        string Root(string sku)
        {
            if (!parent.TryGetValue(sku, out var up))
            {
                parent[sku] = sku;
                members[sku] = [sku];
                return sku;
            }
            if (up == sku)
                return sku;
            var root = Root(up);
            parent[sku] = root;
            return root;
        }

        foreach (var pair in pairs.OrderByDescending(p => p.Score).ThenBy(p => p.Sku, StringComparer.Ordinal).ThenBy(p => p.OtherSku, StringComparer.Ordinal))
        {
            var (a, b) = (Root(pair.Sku), Root(pair.OtherSku));
            if (a == b || members[a].Count + members[b].Count > maxGroupSize)
                continue;
            var (keep, gone) = members[a].Count >= members[b].Count ? (a, b) : (b, a);
            parent[gone] = keep;
            members[keep].AddRange(members[gone]);
            members.Remove(gone);
            best[keep] = Math.Max(best.GetValueOrDefault(keep, pair.Score), Math.Max(best.GetValueOrDefault(gone, pair.Score), pair.Score));
            best.Remove(gone);
        }
        return [.. members.Where(m => m.Value.Count >= 2)
            .Select(m => (Best: best[m.Key], Members: m.Value.Order(StringComparer.Ordinal).ToList()))
            .OrderByDescending(g => g.Best).ThenBy(g => g.Members[0], StringComparer.Ordinal)
            .Select(g => g.Members)];
    }
}
