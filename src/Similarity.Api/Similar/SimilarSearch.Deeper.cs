using Similarity.Database;

namespace Similarity.Similar;

public sealed partial class SimilarSearch
{
    /// <summary>
    /// Searches deeper while the ranking's caps (maxPerCategory, maxPerBrand) leave the page short of k: twice the
    /// candidates each round, until k results pass, the search finds fewer candidates than it asked for (none are left
    /// under the filters), the last candidates fall below minScore (deeper ones score lower still), or the next round
    /// would pass <see cref="SearchOptions.MaxCandidates"/>; then <c>StoppedEarly</c> says the page may have filled.
    /// Each round asks again from the start: the index search cannot resume where it stopped.
    /// </summary>
    async Task<(Found Found, bool StoppedEarly)> DeepenAsync(SearchRequest request, SearchPlan plan, Found found, CancellationToken ct)
    {
        var criteria = request.Criteria;
        var most = Math.Max(options.Value.MaxCandidates, plan.Candidates);
        while (plan.Rows == plan.Candidates && Choose(found, [], criteria).Count < request.K)
        {
            var exhausted = found.Candidates.Count < plan.Candidates || AboveMinScore(found, criteria).Count < found.Candidates.Count;
            if (exhausted)
                return (found, false);
            if (plan.Candidates >= most)
                return (found, true);
            var candidates = Math.Min(plan.Candidates * 2, most);
            var deeper = plan with { Candidates = candidates, Rows = candidates, Breadth = Math.Max(plan.Breadth, candidates) };
            found = (await dataSource.ReadWithRetryAsync(ct => RunAsync(request, deeper, withQueryItem: false, ct), ct)).Found;
            plan = deeper;
        }
        return (found, false);
    }
}
