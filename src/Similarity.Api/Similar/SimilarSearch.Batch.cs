using Similarity.Database;

namespace Similarity.Similar;

public sealed partial class SimilarSearch
{
    /// <summary>
    /// /similar for many SKUs with the same criteria, in one round trip (and a second only for SKUs whose index search
    /// came back short): each SKU's search runs in a LATERAL join over the list, served by the same HNSW index. A SKU
    /// whose page has pinned items, or criteria whose ranking chooses among candidates, is answered by its own search.
    /// </summary>
    public async Task<IReadOnlyList<BatchAnswer>> SearchManyAsync(IReadOnlyList<string> skus, SearchCriteria criteria, CancellationToken ct)
    {
        var plan = PlanFor(new SearchRequest(null, null, null, null, criteria), exact: !index.IsValid) with { Rows = criteria.K };
        var (states, found) = await dataSource.ReadWithRetryAsync(ct => RunManyAsync(skus, criteria, plan, ct), ct);
        var live = models.Live.Fingerprint;
        bool Current(string sku) => states.GetValueOrDefault(sku).Fingerprint == live;
        var own = skus.Where(sku => Current(sku) && (criteria.Ranking.ReRanks || criteria.Fallback || states[sku].Pinned)).Distinct().ToArray();
        var shortOnes = skus.Where(sku => Current(sku) && !own.Contains(sku) && found[sku].Count < criteria.K).Distinct().ToArray();
        if (plan.Index is not null && shortOnes.Length > 0)
        {
            var (_, exactly) = await dataSource.ReadWithRetryAsync(ct => RunManyAsync(shortOnes, criteria, plan with { Index = null }, ct), ct);
            foreach (var sku in shortOnes)
                found[sku] = exactly[sku];
        }
        foreach (var sku in found.Keys.Except(own).ToArray())
            found[sku] = [.. found[sku].Where(r => criteria.MinScore is not { } min || (r.WeightedScore ?? r.Score) >= min)];
        foreach (var sku in own)
            found[sku] = [.. await SearchAsync(SearchRequest.ForItem(sku, criteria), ct)];
        return [.. skus.Select(sku => states.GetValueOrDefault(sku).Fingerprint switch
        {
            null => new BatchAnswer(sku, QueryItemState.Missing, []),
            var fingerprint when fingerprint != live => new BatchAnswer(sku, QueryItemState.OtherModelSet, []),
            _ => new BatchAnswer(sku, QueryItemState.Current, found[sku]),
        })];
    }

    async Task<(Dictionary<string, (string? Fingerprint, bool Pinned)> States, Dictionary<string, List<SimilarResult>> Results)> RunManyAsync(
        IReadOnlyList<string> skus, SearchCriteria criteria, SearchPlan plan, CancellationToken ct)
    {
        await using var batch = NewBatch(plan);
        batch.BatchCommands.Add(SimilarSql.BatchItems(skus).ToCommand());
        batch.BatchCommands.Add(SimilarSql.BatchSearch(skus, criteria, plan).ToCommand());

        await using var reader = await batch.ExecuteReaderAsync(ct);
        if (plan.Index is not null)
            await reader.NextResultAsync(ct);
        var states = new Dictionary<string, (string? Fingerprint, bool Pinned)>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            var (sku, fingerprint, pinned) = SimilarRows.BatchItem(reader);
            states[sku] = (fingerprint, pinned);
        }
        await reader.NextResultAsync(ct);
        var results = skus.Distinct().ToDictionary(sku => sku, _ => new List<SimilarResult>(), StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            var (querySku, result) = SimilarRows.BatchResult(reader, criteria);
            results[querySku].Add(result);
        }
        return (states, results);
    }
}
