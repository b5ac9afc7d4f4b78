using Microsoft.Extensions.Options;
using Npgsql;
using Similarity.Database;
using Similarity.Hosting;
using Similarity.Models;

namespace Similarity.Similar;

/// <summary>
/// Top-k by cosine for /similar, /search and the batch: answered from the item's neighbour list when the list can
/// answer, else by an index search re-ranked by exact cosine (an exact scan while the index is built, or when the index
/// came back short). Only vectors of the live model set are compared. Every read runs again on a broken pooled
/// connection (see DatabaseFaults.ReadWithRetryAsync). docs/architecture.md tells the paths in full.
/// </summary>
public sealed partial class SimilarSearch([FromKeyedServices(DatabaseExtensions.ReadsKey)] NpgsqlDataSource dataSource, CatalogIndex index, ModelSets models,
    SimilarityMetrics metrics, IOptions<SearchOptions> options)
{
    public Task<QueryItem> GetQueryItemAsync(string sku, CancellationToken ct) => dataSource.ReadWithRetryAsync(async ct =>
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(SimilarSql.QueryItem(sku).ToCommand());
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return SimilarRows.QueryItem(reader, models.Live.Fingerprint);
    }, ct);

    public async Task<IReadOnlyList<SimilarResult>> SearchAsync(SearchRequest request, CancellationToken ct) =>
        (await SearchAsync(request, withQueryItem: false, ct)).Results;

    /// <summary>
    /// The search, and with <paramref name="withQueryItem"/> the revision and the query item's state, in one round trip:
    /// the storefront's unconditional /similar costs the database one visit. An item's page is answered from its neighbour
    /// list whenever the list can answer it (<see cref="FromList"/>: k results survive the filters), else by an index
    /// search. No results when the query item is missing or of another model set. <c>Source</c>: a <see cref="ResultSource"/>.
    /// </summary>
    public async Task<(QueryItem? Item, IReadOnlyList<SimilarResult> Results, string Source)> SearchAsync(SearchRequest request, bool withQueryItem, CancellationToken ct)
    {
        var criteria = request.Criteria;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (FromList(request))
        {
            // The stored list merged with the changes not folded into it yet (SimilarSearch.FreshList.cs).
            var (listedItem, merged) = await dataSource.ReadWithRetryAsync(ct => RunFreshListAsync(request, withQueryItem, ct), ct);
            var listed = merged.Found;
            if (listedItem is { State: not QueryItemState.Current })
                return (listedItem, [], ResultSource.IndexSearch);
            if (merged.Answers(request.K) && AboveMinScore(listed, criteria).Count >= request.K)
            {
                metrics.SimilarDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
                    new KeyValuePair<string, object?>("path", ResultSource.NeighbourList));
                return (listedItem, Choose(listed, [], criteria), ResultSource.NeighbourList);
            }
            // The item is known now: the index search need not read it again.
            var (_, results) = await IndexSearchAsync(request, withQueryItem: false, started, ct);
            return (listedItem, results, ResultSource.IndexSearch);
        }
        var (item, found) = await IndexSearchAsync(request, withQueryItem, started, ct);
        return (item, found, ResultSource.IndexSearch);
    }

    /// <summary>
    /// Whether the request can be answered from the item's neighbour list: an item's page ranked by the fused cosine
    /// (no re-weighting, diversity, crowding, boost or fallback), for k within the list's length.
    /// </summary>
    bool FromList(SearchRequest request) =>
        request is { QuerySku: not null, Weighted: false, CategoryOfQuery: false }
        && request.Criteria is { Fallback: false, Ranking.ReRanks: false }
        && request.K <= options.Value.ListSize;

    async Task<(QueryItem? Item, IReadOnlyList<SimilarResult> Results)> IndexSearchAsync(SearchRequest request, bool withQueryItem, long started, CancellationToken ct)
    {
        var criteria = request.Criteria;
        var plan = PlanFor(request, exact: !index.IsValid);
        var (item, found) = await dataSource.ReadWithRetryAsync(ct => RunAsync(request, plan, withQueryItem, ct), ct);
        if (item is { State: not QueryItemState.Current })
            return (item, []);
        var rescan = found.Candidates.Count < request.K && plan.Index is not null; // the index came back short: an exact scan finds k
        var searched = rescan ? plan with { Index = null } : plan;
        if (rescan)
            found = (await dataSource.ReadWithRetryAsync(ct => RunAsync(request, searched, withQueryItem: false, ct), ct)).Found;
        (found, var stoppedEarly) = await DeepenAsync(request, searched, found, ct);
        // fallback=category: what the filters and minScore left short is filled from the query item's category.
        IReadOnlyList<Candidate> filler = [];
        if (criteria.Fallback && request.QuerySku is not null && AboveMinScore(found, criteria).Count < request.K)
        {
            var byCategory = request with { Criteria = criteria with { MinScore = null, Filter = new SearchFilter(null, null, null, null, null, criteria.Filter.Exclude) }, CategoryOfQuery = true };
            var byCategoryPlan = PlanFor(byCategory, exact: plan.Index is null);
            filler = (await dataSource.ReadWithRetryAsync(ct => RunAsync(byCategory, byCategoryPlan, withQueryItem: false, ct), ct)).Found.Candidates;
        }
        // approximate: the HNSW index; exact: a scan (the index not valid yet); fallback: the index, then a scan for k results.
        metrics.SimilarDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("path", plan.Index is null ? "exact" : rescan ? "fallback" : "approximate"));
        var page = Choose(found, filler, criteria);
        return (item, new ResultPage([.. page], Exhausted: page.Count < request.K && !stoppedEarly, stoppedEarly));
    }

    /// <summary>
    /// The page from what a search found: the candidates above minScore, in ranking order, or — when the criteria
    /// re-rank, a fallback filled in, or an admin pinned items — as <see cref="Ranking.Select"/> chooses.
    /// </summary>
    static IReadOnlyList<SimilarResult> Choose(Found found, IReadOnlyList<Candidate> filler, SearchCriteria criteria)
    {
        var scored = AboveMinScore(found, criteria);
        return !criteria.Ranking.ReRanks && filler.Count == 0 && found.Pins.Count == 0
            ? [.. scored.Select(c => c.Result)]
            : Ranking.Select(scored, filler, found.Pins, criteria.K, criteria.Ranking);
    }

    /// <summary>Candidates come in ranking order, so cutting at minScore keeps the best ones.</summary>
    static List<Candidate> AboveMinScore(Found found, SearchCriteria criteria) =>
        [.. found.Candidates.Where(c => criteria.MinScore is not { } min || (c.Result.WeightedScore ?? c.Result.Score) >= min)];

    /// <summary>
    /// How an index search (or, <paramref name="exact"/>, a scan) runs: a few candidates per result, more when re-weighted
    /// or re-ranked; rows: k, or every candidate when the ranking chooses among them.
    /// </summary>
    SearchPlan PlanFor(SearchRequest request, bool exact)
    {
        var o = options.Value;
        var chooses = request.Criteria.Ranking.ReRanks || request.CategoryOfQuery;
        var perResult = chooses ? o.RerankCandidatesPerResult : request.Weighted ? o.WeightedCandidatesPerResult : o.CandidatesPerResult;
        var candidates = request.K * perResult;
        return new SearchPlan(models.Live.Fingerprint, exact ? null : Shape, candidates, chooses ? candidates : request.K, Breadth: Math.Max(o.EfSearch, candidates));
    }

    IndexShape Shape => new(index.Expression, index.Predicate, index.Dimension);

    /// <summary>A batch for one search: the search breadth first when it searches the index (never below the candidates wanted).</summary>
    NpgsqlBatch NewBatch(SearchPlan plan)
    {
        var batch = dataSource.CreateBatch();
        if (plan.Index is not null)
            batch.BatchCommands.Add(SearchBreadth.Command(Math.Max(options.Value.EfSearch, plan.Candidates)));
        return batch;
    }

    /// <summary>What one search finds: the candidates by ranking score and, on an item's page, the results an admin pinned there.</summary>
    sealed record Found(List<Candidate> Candidates, List<Pin> Pins);

    async Task<(QueryItem? Item, Found Found)> RunAsync(SearchRequest request, SearchPlan plan, bool withQueryItem, CancellationToken ct)
    {
        // One statement: the search's breadth and, with the query item, the revision and the item's state ride in it.
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(SimilarSql.Search(request, plan, withQueryItem).ToCommand());

        await using var reader = await batch.ExecuteReaderAsync(ct);
        QueryItem? item = null;
        var found = new Found([], []);
        while (await reader.ReadAsync(ct))
        {
            if (withQueryItem)
            {
                item ??= SimilarRows.QueryItem(reader, models.Live.Fingerprint);
                if (SimilarRows.IsEmptyPage(reader))
                    continue;
            }
            var (candidate, pinPosition) = SimilarRows.SearchRow(reader, request.Criteria);
            if (pinPosition is { } position)
                found.Pins.Add(new Pin(candidate.Result, position));
            else
                found.Candidates.Add(candidate);
        }
        // A UNION ALL promises no order: the candidates are put back in ranking order here.
        found.Candidates.Sort(ByRank);
        return (item, found);
    }

    static int ByRank(Candidate a, Candidate b) =>
        (b.Result.WeightedScore ?? b.Result.Score).CompareTo(a.Result.WeightedScore ?? a.Result.Score) is var c and not 0 ? c : string.CompareOrdinal(a.Result.Sku, b.Result.Sku);
}
